// Who is signed in, for the whole app: asks GET /api/auth/me once at
// start, again when the server comes back after being unreachable, and
// drops the session when any request answers 401.
import React, { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import { api, onReachability, onUnauthorized } from '../api';
import { authFromMe, nextAuth, type AuthState } from '../lib/auth';

export interface Auth {
  state: AuthState;
  refresh: () => Promise<AuthState>;
  logout: () => Promise<void>;
}

const AuthContext = createContext<Auth>({
  state: { kind: 'off' },
  refresh: async () => ({ kind: 'off' }),
  logout: async () => {},
});

export function useAuth(): Auth {
  return useContext(AuthContext);
}

export function AuthProvider({ children }: { children: React.ReactNode }) {
  const [state, setState] = useState<AuthState>({ kind: 'loading' });
  const ref = useRef<AuthState>(state);
  const set = useCallback((s: AuthState) => {
    ref.current = s;
    setState(s);
  }, []);

  const refresh = useCallback(async () => {
    let answer: AuthState;
    try {
      answer = authFromMe({ me: await api.me() });
    } catch (e) {
      answer = authFromMe({ error: e });
    }
    const s = nextAuth(ref.current, answer);
    set(s);
    return s;
  }, [set]);

  useEffect(() => {
    refresh();
  }, [refresh]);

  useEffect(
    () =>
      onUnauthorized(() => {
        if (ref.current.kind !== 'anonymous') set({ kind: 'anonymous' });
      }),
    [set],
  );

  // Every request reports reachability; only the way back up (down, then
  // a request got through) asks again, and only if the answer was missing.
  const wasDown = useRef(false);
  useEffect(
    () =>
      onReachability((ok) => {
        const back = ok && wasDown.current;
        wasDown.current = !ok;
        if (back && ref.current.kind === 'unknown') refresh();
      }),
    [refresh],
  );

  const logout = useCallback(async () => {
    try {
      await api.logout();
    } catch {
      /* the session ends here either way */
    }
    set({ kind: 'anonymous' });
  }, [set]);

  return <AuthContext.Provider value={{ state, refresh, logout }}>{children}</AuthContext.Provider>;
}
