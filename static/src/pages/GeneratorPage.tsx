import { Box } from '@primer/react';
export default function GeneratorPage() {
  return <Box sx={{ p: 4 }}>Generator</Box>;
}
