// API token pieces shared by the personal tokens page and the admin's view
// of a user: the list with revoke, and the dialog that shows a new token
// exactly once.
import { useRef, useState } from 'react';
import { Box, Button, Flash, Text, TextInput, useConfirm } from '@primer/react';
import { Dialog } from '@primer/react/drafts';
import { CheckIcon, CopyIcon, TrashIcon } from '@primer/octicons-react';
import { api } from '../api';
import type { Token } from '../types';
import { fmtTime } from '../lib/format';
import type { Reveal } from '../lib/auth';
import { ErrorFlash } from './common';

async function copyText(text: string, input: HTMLInputElement | null): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    /* fall back to the selection */
  }
  if (!input) return false;
  input.focus();
  input.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}

// The token in a read-only field with a copy button and a plain warning.
// Closing the dialog forgets the token (see revealReducer).
export function TokenRevealDialog({ reveal, onCopied, onClose }: { reveal: Reveal; onCopied: () => void; onClose: () => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [copyFailed, setCopyFailed] = useState(false);
  if (reveal.token === null) return null;
  const token = reveal.token;
  const copy = async () => {
    const ok = await copyText(token, input.current);
    setCopyFailed(!ok);
    if (ok) onCopied();
  };
  return (
    <Dialog
      title={`New API token “${reveal.name}”`}
      onClose={onClose}
      width="large"
      footerButtons={[{ buttonType: 'primary', content: 'Done', onClick: onClose, 'data-testid': 'token-dialog-done' } as never]}
    >
      <Box data-testid="token-dialog" sx={{ display: 'flex', flexDirection: 'column', gap: 3 }}>
        <Flash variant="warning" data-testid="token-once-warning">
          <Text sx={{ fontWeight: 'bold' }}>Copy it now: you will not see it again.</Text> Only a hash of it is kept; if you lose it, revoke it and
          create another.
        </Flash>
        <Box sx={{ display: 'flex', gap: 2 }}>
          <TextInput
            ref={input}
            readOnly
            block
            monospace
            value={token}
            aria-label="The new API token"
            onFocus={(e) => e.currentTarget.select()}
            data-testid="new-token-value"
            sx={{ flex: 1 }}
          />
          <Button leadingVisual={reveal.copied ? CheckIcon : CopyIcon} onClick={copy} data-testid="copy-token">
            {reveal.copied ? 'Copied' : 'Copy'}
          </Button>
        </Box>
        {copyFailed ? <Text sx={{ color: 'danger.fg' }}>Could not copy: select the token and copy it by hand.</Text> : null}
        <Text sx={{ color: 'fg.muted' }}>
          Use it as <code>Authorization: Bearer …</code> in API requests and scripts.
        </Text>
      </Box>
    </Dialog>
  );
}

// Name, created, last used, expires, and a revoke button that asks first.
export function TokenTable({ tokens, onChanged, showUser = false }: { tokens: Token[]; onChanged: () => void; showUser?: boolean }) {
  const confirm = useConfirm();
  const [error, setError] = useState<unknown>(null);
  const revoke = async (t: Token) => {
    const ok = await confirm({
      title: 'Revoke token?',
      content: `Scripts using “${t.name}” will be refused from their next request on. This cannot be undone.`,
      confirmButtonContent: 'Revoke',
      confirmButtonType: 'danger',
    });
    if (!ok) return;
    setError(null);
    try {
      await api.revokeToken(t.id);
    } catch (e) {
      setError(e);
    }
    onChanged();
  };
  if (tokens.length === 0) {
    return (
      <Text as="p" sx={{ color: 'fg.muted' }} data-testid="no-tokens">
        No API tokens.
      </Text>
    );
  }
  const th = { textAlign: 'left', p: 2, fontWeight: 'bold', color: 'fg.muted', fontSize: 0, borderBottom: '1px solid', borderColor: 'border.default' } as const;
  const td = { p: 2, borderBottom: '1px solid', borderColor: 'border.muted', verticalAlign: 'middle' } as const;
  return (
    <Box>
      <ErrorFlash error={error} onDismiss={() => setError(null)} />
      <Box as="table" sx={{ width: '100%', borderCollapse: 'collapse' }} data-testid="token-table">
        <thead>
          <tr>
            <Box as="th" sx={th}>Name</Box>
            {showUser ? <Box as="th" sx={th}>User</Box> : null}
            <Box as="th" sx={th}>Created</Box>
            <Box as="th" sx={th}>Last used</Box>
            <Box as="th" sx={th}>Expires</Box>
            <Box as="th" sx={th} aria-label="Actions" />
          </tr>
        </thead>
        <tbody>
          {tokens.map((t) => (
            <tr key={t.id} data-testid="token-row" data-token-id={t.id} data-token-name={t.name}>
              <Box as="td" sx={{ ...td, fontWeight: 'bold' }}>{t.name}</Box>
              {showUser ? <Box as="td" sx={td}>{t.user}</Box> : null}
              <Box as="td" sx={td}>{t.created_at ? fmtTime(t.created_at) : '–'}</Box>
              <Box as="td" sx={td} data-testid="token-last-used">{t.last_used_at ? fmtTime(t.last_used_at) : 'never'}</Box>
              <Box as="td" sx={td}>{t.expires_at ? fmtTime(t.expires_at) : 'never'}</Box>
              <Box as="td" sx={{ ...td, textAlign: 'right' }}>
                <Button size="small" variant="danger" leadingVisual={TrashIcon} onClick={() => revoke(t)} data-testid="revoke-token" aria-label={`Revoke ${t.name}`}>
                  Revoke
                </Button>
              </Box>
            </tr>
          ))}
        </tbody>
      </Box>
    </Box>
  );
}
