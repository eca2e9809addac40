// Which fields of a pipeline's records are primary, secondary or hidden;
// saved with the pipeline (validation_config.field_order).
import { Box, Button, FormControl, Select, Text } from '@primer/react';
import type { FieldOrder } from '../types';
import { roleOf, withRole, type Role } from './fields';

interface Props {
  pipelineId: string;
  pipelineName?: string;
  fieldNames: string[];
  order: FieldOrder;
  saved: boolean;
  onChange: (o: FieldOrder) => void;
  onSave: () => void;
}

export function FieldLayout({ pipelineId, pipelineName, fieldNames, order, saved, onChange, onSave }: Props) {
  return (
    <Box data-testid="field-config" sx={{ border: '1px solid', borderColor: 'border.default', borderRadius: 2, p: 3, mb: 3 }}>
      <Text as="div" sx={{ fontWeight: 'bold', mb: 2 }}>
        Field layout
      </Text>
      {!pipelineId ? (
        <Text sx={{ color: 'fg.muted' }}>Choose a pipeline to configure which fields are primary, secondary or hidden.</Text>
      ) : fieldNames.length === 0 ? (
        <Text sx={{ color: 'fg.muted' }}>No records to take field names from yet.</Text>
      ) : (
        <>
          <Box sx={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(220px, 1fr))', gap: 2 }}>
            {fieldNames.map((f) => (
              <FormControl key={f}>
                <FormControl.Label>{f}</FormControl.Label>
                <Select value={roleOf(order, f)} onChange={(e) => onChange(withRole(order, f, e.target.value as Role))} data-testid={`field-role-${f}`} block>
                  <Select.Option value="primary">primary</Select.Option>
                  <Select.Option value="secondary">secondary</Select.Option>
                  <Select.Option value="hidden">hidden</Select.Option>
                </Select>
              </FormControl>
            ))}
          </Box>
          <Box sx={{ display: 'flex', gap: 2, alignItems: 'center', mt: 2 }}>
            <Button variant="primary" onClick={onSave} disabled={saved} data-testid="save-field-config">
              Save layout
            </Button>
            <Text sx={{ fontSize: 0, color: 'fg.muted' }}>{saved ? `Saved for ${pipelineName || 'this pipeline'}` : 'Unsaved changes'}</Text>
          </Box>
        </>
      )}
    </Box>
  );
}
