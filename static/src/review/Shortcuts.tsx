// The review page's keyboard shortcuts: the help box ("?") and the hint
// line below the records.
import { Box, IconButton, Text } from '@primer/react';
import { XIcon } from '@primer/octicons-react';

export const SHORTCUTS: [string, string][] = [
  ['a', 'accept, then the next pending record'],
  ['r', 'reject, then the next pending record'],
  ['u', 'set back to pending'],
  ['e', 'edit'],
  ['n', 'next record'],
  ['p', 'previous record'],
  ['?', 'show or hide this help'],
];

export function ShortcutHelp({ onClose }: { onClose: () => void }) {
  return (
    <Box role="dialog" aria-label="Keyboard shortcuts" data-testid="shortcut-help" sx={{ border: '1px solid', borderColor: 'border.default', borderRadius: 2, p: 3, mb: 3, bg: 'canvas.overlay', boxShadow: 'shadow.large' }}>
      <Box sx={{ display: 'flex', alignItems: 'center' }}>
        <Text sx={{ fontWeight: 'bold', flex: 1 }}>Keyboard shortcuts</Text>
        <IconButton icon={XIcon} size="small" variant="invisible" aria-label="Close help" onClick={onClose} />
      </Box>
      <Box as="dl" sx={{ display: 'grid', gridTemplateColumns: 'auto 1fr', gap: 1, m: 0, mt: 2 }}>
        {SHORTCUTS.map(([k, d]) => (
          <Box key={k} sx={{ display: 'contents' }}>
            <dt>
              <kbd>{k}</kbd>
            </dt>
            <Box as="dd" sx={{ m: 0 }}>
              {d}
            </Box>
          </Box>
        ))}
      </Box>
      <Text as="p" sx={{ fontSize: 0, color: 'fg.muted', mb: 0, mt: 2 }}>
        In the editor, Ctrl+Enter saves and Esc cancels. Shortcuts are off while typing in a field.
      </Text>
    </Box>
  );
}

export function isTyping(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  if (!t) return false;
  const tag = t.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || t.isContentEditable;
}
