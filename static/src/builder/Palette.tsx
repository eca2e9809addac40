import { useMemo, useState } from 'react';
import { Box, IconButton, Text, TextInput } from '@primer/react';
import { PlusIcon, SearchIcon } from '@primer/octicons-react';
import type { BlockInfo } from '../types';

export const DND_TYPE = 'application/x-dgen-block';

// The block palette: searchable, grouped by category. Blocks are dragged
// onto the canvas, or added to the end of the pipeline with the + button.
export function Palette({ blocks, onAdd }: { blocks: BlockInfo[]; onAdd: (type: string) => void }) {
  const [q, setQ] = useState('');
  const groups = useMemo(() => {
    const needle = q.trim().toLowerCase();
    const m = new Map<string, BlockInfo[]>();
    for (const b of blocks) {
      const hay = `${b.name} ${b.type} ${b.description} ${b.category}`.toLowerCase();
      if (needle && !hay.includes(needle)) continue;
      const c = b.category || 'other';
      if (!m.has(c)) m.set(c, []);
      m.get(c)!.push(b);
    }
    return [...m.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  }, [blocks, q]);

  return (
    <Box as="aside" aria-label="Blocks" data-testid="palette" sx={{ display: 'flex', flexDirection: 'column', gap: 2, p: 2, overflow: 'auto', minHeight: 0 }}>
      <TextInput
        leadingVisual={SearchIcon}
        placeholder="Search blocks"
        aria-label="Search blocks"
        value={q}
        onChange={(e) => setQ(e.target.value)}
        data-testid="palette-search"
        block
      />
      {groups.length === 0 ? <Text sx={{ color: 'fg.muted', fontSize: 1 }}>No block matches.</Text> : null}
      {groups.map(([cat, items]) => (
        <Box key={cat} data-testid={`palette-group-${cat}`}>
          <Text as="div" sx={{ fontSize: 0, fontWeight: 'bold', color: 'fg.muted', textTransform: 'uppercase', mb: 1 }}>
            {cat}
          </Text>
          <Box sx={{ display: 'flex', flexDirection: 'column', gap: 1 }}>
            {items.map((b) => (
              <Box
                key={b.type}
                draggable
                onDragStart={(e: React.DragEvent) => {
                  e.dataTransfer.setData(DND_TYPE, b.type);
                  e.dataTransfer.setData('text/plain', b.type);
                  e.dataTransfer.effectAllowed = 'move';
                }}
                data-testid={`palette-item-${b.type}`}
                title={b.description}
                sx={{
                  display: 'flex',
                  alignItems: 'center',
                  gap: 1,
                  border: '1px solid',
                  borderColor: 'border.default',
                  borderRadius: 2,
                  px: 2,
                  py: 1,
                  bg: 'canvas.subtle',
                  cursor: 'grab',
                  ':hover': { borderColor: 'accent.emphasis' },
                }}
              >
                <Box sx={{ flex: 1, minWidth: 0 }}>
                  <Text as="div" sx={{ fontWeight: 'bold', fontSize: 1 }}>
                    {b.name}
                    {b.is_multiplier ? <Text sx={{ fontWeight: 'normal', color: 'fg.muted' }}> · multiplier</Text> : null}
                  </Text>
                  <Text as="div" sx={{ fontSize: 0, color: 'fg.muted', overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>
                    {b.description}
                  </Text>
                </Box>
                <IconButton
                  icon={PlusIcon}
                  size="small"
                  variant="invisible"
                  aria-label={`Add ${b.name} to the end of the pipeline`}
                  onClick={() => onAdd(b.type)}
                  data-testid={`palette-add-${b.type}`}
                />
              </Box>
            ))}
          </Box>
        </Box>
      ))}
    </Box>
  );
}
