import React, { Suspense, lazy, useEffect, useState } from 'react';
import { NavLink, Navigate, Route, Routes, useLocation, useNavigate } from 'react-router-dom';
import { BaseStyles, Box, Button, Label, Spinner, Text, ThemeProvider, useTheme } from '@primer/react';
import { AlertIcon, DeviceDesktopIcon, MoonIcon, PersonIcon, SignOutIcon, SunIcon, SyncIcon } from '@primer/octicons-react';
import { useModePref, type ModePref } from './theme';
import { api, onReachability } from './api';
import { AuthProvider, useAuth } from './auth/AuthProvider';
import { LOGIN_PATH, loginRedirect } from './lib/auth';

const PipelinesPage = lazy(() => import('./pages/PipelinesPage'));
const BuilderPage = lazy(() => import('./pages/BuilderPage'));
const GeneratorPage = lazy(() => import('./pages/GeneratorPage'));
const ReviewPage = lazy(() => import('./pages/ReviewPage'));
const LoginPage = lazy(() => import('./pages/LoginPage'));
const TokensPage = lazy(() => import('./pages/TokensPage'));
const UsersPage = lazy(() => import('./pages/UsersPage'));
const ModelsPage = lazy(() => import('./pages/ModelsPage'));

// Mirrors a few theme colours into CSS variables for the plain CSS in
// styles.css and tags <html> with the resolved mode (tests and React Flow
// read it).
function ThemeVars() {
  const { theme, resolvedColorMode } = useTheme();
  useEffect(() => {
    const c = (theme?.colors || {}) as Record<string, Record<string, string>>;
    const root = document.documentElement;
    const dark = resolvedColorMode === 'night' || resolvedColorMode === 'dark';
    root.dataset.colorMode = dark ? 'dark' : 'light';
    root.style.colorScheme = dark ? 'dark' : 'light';
    root.style.setProperty('--dgen-bg', c.canvas?.default || '');
    root.style.setProperty('--dgen-subtle-bg', c.canvas?.subtle || '');
    root.style.setProperty('--dgen-fg', c.fg?.default || '');
    root.style.setProperty('--dgen-muted', c.fg?.muted || '');
    root.style.setProperty('--dgen-border', c.border?.default || '');
    root.style.setProperty('--dgen-accent', c.accent?.fg || '');
    document.body.style.background = c.canvas?.default || '';
  }, [theme, resolvedColorMode]);
  return null;
}

const modeLabel: Record<ModePref, string> = { auto: 'System', light: 'Light', dark: 'Dark' };

function NavItem({ to, children, testid }: { to: string; children: React.ReactNode; testid: string }) {
  return (
    <NavLink to={to} data-testid={testid} style={{ textDecoration: 'none' }}>
      {({ isActive }) => (
        <Box
          as="span"
          sx={{
            px: 2,
            py: 1,
            borderRadius: 2,
            color: isActive ? 'fg.default' : 'fg.muted',
            fontWeight: isActive ? 'bold' : 'normal',
            bg: isActive ? 'neutral.muted' : 'transparent',
            ':hover': { color: 'fg.default' },
          }}
        >
          {children}
        </Box>
      )}
    </NavLink>
  );
}

// One page-wide state for "the API does not answer": the pages are not
// rendered (no empty lists that look like "no data", no spinners that never
// end), and Retry re-checks /api/health and remounts the page so it loads
// afresh.
function ServerDown({ onRetry, busy }: { onRetry: () => void; busy: boolean }) {
  return (
    <Box sx={{ p: 4, maxWidth: 640, mx: 'auto', mt: 6, textAlign: 'center' }} data-testid="server-down" role="alert">
      <Box sx={{ color: 'danger.fg', mb: 2 }}>
        <AlertIcon size={32} />
      </Box>
      <Box as="h1" sx={{ fontSize: 4, m: 0, mb: 2 }}>
        Cannot reach the dgen server
      </Box>
      <Text as="p" sx={{ color: 'fg.muted' }}>
        The page loaded, but the API at <code>/api/</code> does not answer. Check that dgen is running (for a local stack:{' '}
        <code>contrib/dgenctl up</code>), then retry.
      </Text>
      <Box sx={{ display: 'flex', justifyContent: 'center' }}>
        <Button variant="primary" leadingVisual={SyncIcon} onClick={onRetry} disabled={busy} data-testid="server-retry">
          {busy ? 'Checking…' : 'Retry'}
        </Button>
      </Box>
    </Box>
  );
}

function useReachable(): { down: boolean; retry: () => void; checking: boolean; epoch: number } {
  const [down, setDown] = useState(false);
  const [checking, setChecking] = useState(false);
  const [epoch, setEpoch] = useState(0);
  const downRef = React.useRef(false);
  useEffect(
    () =>
      onReachability((ok) => {
        if (ok === !downRef.current) return;
        downRef.current = !ok;
        setDown(!ok);
        if (ok) setEpoch((e) => e + 1); // back by itself: reload the page's data
      }),
    [],
  );
  const retry = () => {
    setChecking(true);
    api.health().then(
      () => {
        setChecking(false); // the successful request has already said so
      },
      () => setChecking(false),
    );
  };
  return { down, retry, checking, epoch };
}

// The signed-in user at the right of the header, their tokens, and
// logout. Nothing when the server has no accounts.
function UserMenu() {
  const { state, logout } = useAuth();
  const navigate = useNavigate();
  const [busy, setBusy] = useState(false);
  if (state.kind !== 'user') return null;
  const out = async () => {
    setBusy(true);
    await logout();
    setBusy(false);
    navigate(LOGIN_PATH, { replace: true }); // the next user starts from the home page
  };
  return (
    <Box sx={{ display: 'flex', alignItems: 'center', gap: 2 }} data-testid="user-menu">
      <Box sx={{ display: 'flex', alignItems: 'center', gap: 1, color: 'fg.muted' }}>
        <PersonIcon />
        <Text sx={{ color: 'fg.default', fontWeight: 'bold' }} data-testid="current-user">
          {state.user.name}
        </Text>
        <Label variant={state.user.role === 'admin' ? 'accent' : 'secondary'} data-testid="current-role">
          {state.user.role}
        </Label>
      </Box>
      <Button size="small" leadingVisual={SignOutIcon} onClick={out} disabled={busy} data-testid="logout">
        Log out
      </Button>
    </Box>
  );
}

// Sends a caller without a session to the login page, remembering where
// they were; waits for the first answer about the session before showing
// a page (no flash of a page that would answer 401).
function Gate({ children }: { children: React.ReactNode }) {
  const { state } = useAuth();
  const loc = useLocation();
  if (state.kind === 'loading') {
    return (
      <Box sx={{ p: 4 }} data-testid="auth-loading">
        <Spinner />
      </Box>
    );
  }
  if (state.kind === 'anonymous') {
    const to = loginRedirect(loc);
    if (to) return <Navigate to={to} replace />;
  }
  return <>{children}</>;
}

export default function App() {
  return (
    <AuthProvider>
      <Shell />
    </AuthProvider>
  );
}

function Shell() {
  const { state } = useAuth();
  const loc = useLocation();
  const onLogin = loc.pathname === LOGIN_PATH;
  const signedIn = state.kind === 'user';
  const showNav = !onLogin && state.kind !== 'anonymous' && state.kind !== 'loading';
  const reach = useReachable();
  const [pref, cycle] = useModePref();
  const colorMode = pref === 'auto' ? 'auto' : pref === 'light' ? 'day' : 'night';
  const Icon = pref === 'auto' ? DeviceDesktopIcon : pref === 'light' ? SunIcon : MoonIcon;
  return (
    <ThemeProvider colorMode={colorMode} dayScheme="light" nightScheme="dark">
      <ThemeVars />
      <BaseStyles>
        <Box sx={{ minHeight: '100vh', bg: 'canvas.default', color: 'fg.default', display: 'flex', flexDirection: 'column' }}>
          <Box
            as="header"
            sx={{
              display: 'flex',
              alignItems: 'center',
              gap: 3,
              px: 3,
              py: 2,
              borderBottom: '1px solid',
              borderColor: 'border.default',
              bg: 'canvas.subtle',
            }}
          >
            <Text sx={{ fontWeight: 'bold', fontSize: 3, mr: 2 }}>dgen</Text>
            {showNav ? (
              <Box as="nav" aria-label="Main" sx={{ display: 'flex', gap: 1 }}>
                <NavItem to="/pipelines" testid="nav-pipelines">Pipelines</NavItem>
                <NavItem to="/generator" testid="nav-generator">Generator</NavItem>
                <NavItem to="/review" testid="nav-review">Review</NavItem>
                <NavItem to="/models" testid="nav-models">Models</NavItem>
                {signedIn ? <NavItem to="/tokens" testid="nav-tokens">API tokens</NavItem> : null}
                {signedIn && state.user.role === 'admin' ? <NavItem to="/users" testid="nav-users">Users</NavItem> : null}
              </Box>
            ) : null}
            <Box sx={{ flex: 1 }} />
            {onLogin ? null : <UserMenu />}
            <Button
              size="small"
              leadingVisual={Icon}
              onClick={cycle}
              data-testid="theme-toggle"
              data-mode={pref}
              aria-label={`Colour mode: ${modeLabel[pref]}. Click to change.`}
            >
              {modeLabel[pref]}
            </Button>
          </Box>
          <Box as="main" sx={{ flex: 1, display: 'flex', flexDirection: 'column', minHeight: 0 }}>
            {reach.down ? <ServerDown onRetry={reach.retry} busy={reach.checking} /> : null}
            <Suspense fallback={<Box sx={{ p: 4 }}><Spinner /></Box>}>
              <Box key={reach.epoch} sx={{ display: reach.down ? 'none' : 'flex', flexDirection: 'column', flex: 1, minHeight: 0 }}>
              <Gate>
              <Routes>
                <Route path="/" element={<Navigate to="/pipelines" replace />} />
                <Route path="/login" element={<LoginPage />} />
                <Route path="/tokens" element={<TokensPage />} />
                <Route path="/users" element={<UsersPage />} />
                <Route path="/models" element={<ModelsPage />} />
                <Route path="/pipelines" element={<PipelinesPage />} />
                <Route path="/pipelines/new" element={<BuilderPage />} />
                <Route path="/pipelines/:id/edit" element={<BuilderPage />} />
                <Route path="/generator" element={<GeneratorPage />} />
                <Route path="/review" element={<ReviewPage />} />
                <Route path="*" element={<Box sx={{ p: 4 }} data-testid="not-found">Page not found.</Box>} />
              </Routes>
              </Gate>
              </Box>
            </Suspense>
          </Box>
        </Box>
      </BaseStyles>
    </ThemeProvider>
  );
}
