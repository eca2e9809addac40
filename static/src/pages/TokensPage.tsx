import { useCallback, useEffect, useReducer, useState } from 'react';
import { Box, Button, FormControl, Spinner, Text, TextInput } from '@primer/react';
import { KeyIcon } from '@primer/octicons-react';
import { api } from '../api';
import type { Token } from '../types';
import { ErrorFlash, PageTitle } from '../components/common';
import { TokenRevealDialog, TokenTable } from '../components/tokens';
import { REVEAL_NONE, parseExpiryDays, revealReducer } from '../lib/auth';
import { useAuth } from '../auth/AuthProvider';

// The signed-in user's API tokens: create one (shown once), see when each
// was last used, revoke.
export default function TokensPage() {
  const { state } = useAuth();
  const [tokens, setTokens] = useState<Token[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [name, setName] = useState('');
  const [days, setDays] = useState('');
  const [busy, setBusy] = useState(false);
  const [reveal, dispatch] = useReducer(revealReducer, REVEAL_NONE);
  const me = state.kind === 'user' ? state.user.name : undefined;

  const load = useCallback(async () => {
    try {
      setTokens(await api.tokens()); // one's own, admins included
    } catch (e) {
      setError(e);
      setTokens((t) => t ?? []);
    }
  }, []);

  useEffect(() => {
    document.title = 'API tokens · dgen';
    load();
  }, [load]);

  const expiry = parseExpiryDays(days);
  const create = async (ev: React.FormEvent) => {
    ev.preventDefault();
    if (busy || !name.trim() || expiry === undefined) return;
    setBusy(true);
    setError(null);
    try {
      const t = await api.createToken(name.trim(), expiry);
      dispatch({ type: 'created', token: t.token, name: t.name || name.trim() });
      setName('');
      setDays('');
      await load();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Box sx={{ p: 4, maxWidth: 1000, width: '100%', mx: 'auto' }} data-testid="tokens-page">
      <PageTitle>API tokens</PageTitle>
      <Text as="p" sx={{ color: 'fg.muted', mt: 0 }}>
        A token lets a script or the <code>dgen</code> CLI act as you ({me ?? 'this user'}) through the API. It sees and changes what you can.
      </Text>
      <ErrorFlash error={error} onDismiss={() => setError(null)} />
      <Box
        as="form"
        onSubmit={create}
        aria-label="New token"
        sx={{ display: 'flex', gap: 3, alignItems: 'flex-start', flexWrap: 'wrap', p: 3, mb: 4, border: '1px solid', borderColor: 'border.default', borderRadius: 2, bg: 'canvas.subtle' }}
      >
        <FormControl required>
          <FormControl.Label>Token name</FormControl.Label>
          <TextInput value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. nightly-export" data-testid="token-name" sx={{ width: 260 }} />
          <FormControl.Caption>Letters, digits, '.', '_' and '-'.</FormControl.Caption>
        </FormControl>
        <FormControl>
          <FormControl.Label>Expires after (days)</FormControl.Label>
          <TextInput
            value={days}
            onChange={(e) => setDays(e.target.value)}
            inputMode="numeric"
            placeholder="never"
            data-testid="token-days"
            sx={{ width: 140 }}
            validationStatus={expiry === undefined ? 'error' : undefined}
          />
          {expiry === undefined ? <FormControl.Validation variant="error">A whole number of days, 1 or more.</FormControl.Validation> : <FormControl.Caption>Empty: never.</FormControl.Caption>}
        </FormControl>
        <Box sx={{ pt: '24px' }}>
          <Button type="submit" variant="primary" leadingVisual={KeyIcon} disabled={busy || !name.trim() || expiry === undefined} data-testid="create-token">
            {busy ? 'Creating…' : 'Create token'}
          </Button>
        </Box>
      </Box>
      <Box as="h2" sx={{ fontSize: 2, mb: 2 }}>
        Your tokens
      </Box>
      {tokens === null ? <Spinner size="small" /> : <TokenTable tokens={tokens} onChanged={load} />}
      <TokenRevealDialog reveal={reveal} onCopied={() => dispatch({ type: 'copied' })} onClose={() => dispatch({ type: 'closed' })} />
    </Box>
  );
}
