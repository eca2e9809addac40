import { Box } from '@primer/react';
export default function ReviewPage() {
  return <Box sx={{ p: 4 }}>Review</Box>;
}
