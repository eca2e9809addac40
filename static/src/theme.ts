// Colour mode preference: follow the system by default, or a fixed light or
// dark choice that the user toggled and that survives reloads.
import { useCallback, useEffect, useState } from 'react';

export type ModePref = 'auto' | 'light' | 'dark';
const KEY = 'dgen.colorMode';

function load(): ModePref {
  try {
    const v = localStorage.getItem(KEY);
    if (v === 'light' || v === 'dark' || v === 'auto') return v;
  } catch {
    /* storage may be disabled */
  }
  return 'auto';
}

export function useModePref(): [ModePref, () => void] {
  const [pref, setPref] = useState<ModePref>(load);
  const cycle = useCallback(() => {
    setPref((p) => {
      const next: ModePref = p === 'auto' ? 'light' : p === 'light' ? 'dark' : 'auto';
      try {
        localStorage.setItem(KEY, next);
      } catch {
        /* ignore */
      }
      return next;
    });
  }, []);
  return [pref, cycle];
}

export function useSystemDark(): boolean {
  const q = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
  const [dark, setDark] = useState<boolean>(q ? q.matches : false);
  useEffect(() => {
    if (!q) return;
    const on = (e: MediaQueryListEvent) => setDark(e.matches);
    q.addEventListener('change', on);
    return () => q.removeEventListener('change', on);
  }, [q]);
  return dark;
}
