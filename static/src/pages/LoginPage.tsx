import { useEffect, useState } from 'react';
import { Navigate, useNavigate, useSearchParams, Link as RouterLink } from 'react-router-dom';
import { Box, Button, Flash, FormControl, Text, TextInput } from '@primer/react';
import { SignInIcon } from '@primer/octicons-react';
import { ApiError, api } from '../api';
import { useAuth } from '../auth/AuthProvider';
import { loginErrorText, safeNext, tooManyText } from '../lib/auth';

// Seconds left of a 429's Retry-After, counting down once a second.
function useCountdown(): [number, (s: number) => void] {
  const [left, setLeft] = useState(0);
  useEffect(() => {
    if (left <= 0) return;
    const t = setTimeout(() => setLeft((x) => x - 1), 1000);
    return () => clearTimeout(t);
  }, [left]);
  return [left, setLeft];
}

// Name and password, then back to the page that asked for them (?next=).
export default function LoginPage() {
  const { state, refresh } = useAuth();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const next = safeNext(params.get('next'));
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [wait, setWait] = useCountdown();

  useEffect(() => {
    document.title = 'Sign in · dgen';
  }, []);

  if (state.kind === 'user') return <Navigate to={next} replace />;

  const submit = async (ev: React.FormEvent) => {
    ev.preventDefault();
    if (busy || wait > 0) return;
    setBusy(true);
    setError(null);
    try {
      await api.login(name.trim(), password);
      setPassword('');
      const s = await refresh();
      if (s.kind !== 'user') navigate(next, { replace: true }); // no /me on this server: go anyway
    } catch (e) {
      setError(e);
      if (e instanceof ApiError && e.status === 429) setWait(e.retryAfter ?? 0);
    } finally {
      setBusy(false);
    }
  };

  const message = error ? (wait > 0 ? tooManyText(wait) : loginErrorText(error)) : null;
  return (
    <Box sx={{ display: 'flex', justifyContent: 'center', p: 4, mt: [2, 6] }} data-testid="login-page">
      <Box
        as="form"
        onSubmit={submit}
        aria-labelledby="login-h"
        sx={{ width: '100%', maxWidth: 360, border: '1px solid', borderColor: 'border.default', borderRadius: 2, p: 4, bg: 'canvas.subtle', display: 'flex', flexDirection: 'column', gap: 3 }}
      >
        <Box as="h1" id="login-h" sx={{ fontSize: 4, m: 0 }}>
          Sign in to dgen
        </Box>
        {state.kind === 'off' ? (
          <Flash data-testid="login-no-accounts">
            This server has no accounts. <RouterLink to="/pipelines">Go to the pipelines</RouterLink>.
          </Flash>
        ) : null}
        {message ? (
          <Flash variant="danger" role="alert" data-testid="login-error">
            <Text sx={{ fontWeight: 'bold' }}>{message}</Text>
          </Flash>
        ) : null}
        <FormControl required>
          <FormControl.Label>Name</FormControl.Label>
          <TextInput
            block
            autoFocus
            autoComplete="username"
            value={name}
            onChange={(e) => setName(e.target.value)}
            data-testid="login-name"
          />
        </FormControl>
        <FormControl required>
          <FormControl.Label>Password</FormControl.Label>
          <TextInput
            block
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            data-testid="login-password"
          />
        </FormControl>
        <Button
          type="submit"
          variant="primary"
          block
          leadingVisual={SignInIcon}
          disabled={busy || wait > 0 || !name.trim() || !password}
          data-testid="login-submit"
        >
          {busy ? 'Signing in…' : wait > 0 ? `Wait ${wait} s` : 'Sign in'}
        </Button>
        <Text sx={{ color: 'fg.muted', fontSize: 0 }}>
          On a local stack the first admin is <code>admin</code>; its password is in <code>admin.password</code> in the data directory.
        </Text>
      </Box>
    </Box>
  );
}
