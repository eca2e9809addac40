import { memo } from 'react';
import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { Box, Label, Text } from '@primer/react';
import type { FormValues } from './model';
import type { JsonObject } from '../types';

export interface NodeView {
  name: string;
  category: string;
  unknown: boolean;
  missing: string[];
  connected: boolean;
  invalid: boolean;
  misplaced: boolean; // a multiplier that is not the first block
  serverError?: string;
  position?: number; // 1-based place in the pipeline when connected
}

export type BlockData = {
  blockType: string;
  values: FormValues;
  extra: JsonObject;
  view?: NodeView;
};

export type BlockNodeT = Node<BlockData, 'block'>;
export type EndpointNodeT = Node<Record<string, never>, 'start' | 'end'>;
export type AnyNode = BlockNodeT | EndpointNodeT;

const handleStyle = { width: 12, height: 12 };

export const StartNode = memo(function StartNode() {
  return (
    <Box
      data-testid="node-start"
      sx={{ px: 3, py: 2, borderRadius: 6, bg: 'success.emphasis', color: 'fg.onEmphasis', fontWeight: 'bold', minWidth: 70, textAlign: 'center' }}
    >
      Start
      <Handle type="source" position={Position.Right} style={handleStyle} data-testid="handle-out" />
    </Box>
  );
});

export const EndNode = memo(function EndNode() {
  return (
    <Box
      data-testid="node-end"
      sx={{ px: 3, py: 2, borderRadius: 6, bg: 'neutral.emphasis', color: 'fg.onEmphasis', fontWeight: 'bold', minWidth: 70, textAlign: 'center' }}
    >
      <Handle type="target" position={Position.Left} style={handleStyle} data-testid="handle-in" />
      End
    </Box>
  );
});

export const BlockNode = memo(function BlockNode({ data, selected, id }: NodeProps<BlockNodeT>) {
  const v = data.view;
  const bad = !!v && (v.unknown || v.missing.length > 0 || v.invalid || v.misplaced || !!v.serverError);
  return (
    <Box
      data-testid="block-node"
      data-node-id={id}
      data-block-type={data.blockType}
      sx={{
        minWidth: 190,
        maxWidth: 230,
        border: '2px solid',
        borderColor: selected ? 'accent.emphasis' : v?.serverError ? 'danger.emphasis' : bad ? 'attention.emphasis' : 'border.default',
        borderRadius: 8,
        bg: 'canvas.overlay',
        color: 'fg.default',
        px: 2,
        py: 2,
        boxShadow: selected ? 'shadow.medium' : 'shadow.small',
      }}
    >
      <Handle type="target" position={Position.Left} style={handleStyle} data-testid="handle-in" />
      <Box sx={{ display: 'flex', alignItems: 'center', gap: 1 }}>
        {v?.position ? (
          <Text sx={{ fontSize: 0, color: 'fg.muted' }} data-testid="node-position">
            {v.position}.
          </Text>
        ) : null}
        <Text sx={{ fontWeight: 'bold', fontSize: 1 }}>{v?.name || data.blockType}</Text>
      </Box>
      <Text as="div" sx={{ fontSize: 0, color: 'fg.muted' }}>
        {data.blockType}
        {v?.category ? ` · ${v.category}` : ''}
      </Text>
      <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap', mt: v && (bad || !v.connected) ? 1 : 0 }}>
        {v?.unknown ? <Label variant="danger">unknown block</Label> : null}
        {v && v.missing.length > 0 ? (
          <Label variant="attention" data-testid="badge-not-configured" title={`Missing: ${v.missing.join(', ')}`}>
            not configured
          </Label>
        ) : null}
        {v && !v.connected ? (
          <Label variant="secondary" data-testid="badge-not-connected">
            not connected
          </Label>
        ) : null}
        {v?.misplaced ? (
          <Label variant="attention" data-testid="badge-misplaced" title="A multiplier block must be the first block of the pipeline">
            must be first
          </Label>
        ) : null}
        {v?.invalid && !v.missing.length ? (
          <Label variant="attention" data-testid="badge-invalid">
            invalid value
          </Label>
        ) : null}
      </Box>
      {v?.serverError ? (
        <Text as="div" sx={{ fontSize: 0, color: 'danger.fg', mt: 1, wordBreak: 'break-word' }} data-testid="node-server-error" role="alert">
          {v.serverError}
        </Text>
      ) : null}
      <Handle type="source" position={Position.Right} style={handleStyle} data-testid="handle-out" />
    </Box>
  );
});

export const nodeTypes = { start: StartNode, end: EndNode, block: BlockNode };
