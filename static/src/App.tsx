import React, { Suspense, lazy, useEffect } from 'react';
import { NavLink, Navigate, Route, Routes } from 'react-router-dom';
import { BaseStyles, Box, Button, Spinner, Text, ThemeProvider, useTheme } from '@primer/react';
import { DeviceDesktopIcon, MoonIcon, SunIcon } from '@primer/octicons-react';
import { useModePref, type ModePref } from './theme';

const PipelinesPage = lazy(() => import('./pages/PipelinesPage'));
const BuilderPage = lazy(() => import('./pages/BuilderPage'));
const GeneratorPage = lazy(() => import('./pages/GeneratorPage'));
const ReviewPage = lazy(() => import('./pages/ReviewPage'));

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

export default function App() {
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
            <Box as="nav" aria-label="Main" sx={{ display: 'flex', gap: 1 }}>
              <NavItem to="/pipelines" testid="nav-pipelines">Pipelines</NavItem>
              <NavItem to="/generator" testid="nav-generator">Generator</NavItem>
              <NavItem to="/review" testid="nav-review">Review</NavItem>
            </Box>
            <Box sx={{ flex: 1 }} />
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
            <Suspense fallback={<Box sx={{ p: 4 }}><Spinner /></Box>}>
              <Routes>
                <Route path="/" element={<Navigate to="/pipelines" replace />} />
                <Route path="/pipelines" element={<PipelinesPage />} />
                <Route path="/pipelines/new" element={<BuilderPage />} />
                <Route path="/pipelines/:id/edit" element={<BuilderPage />} />
                <Route path="/generator" element={<GeneratorPage />} />
                <Route path="/review" element={<ReviewPage />} />
                <Route path="*" element={<Box sx={{ p: 4 }} data-testid="not-found">Page not found.</Box>} />
              </Routes>
            </Suspense>
          </Box>
        </Box>
      </BaseStyles>
    </ThemeProvider>
  );
}
