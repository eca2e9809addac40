import { useEffect, useState } from 'react';
import { api } from '../api';
import type { Health } from '../types';

// Before the server said otherwise: its default DGEN_MAX_UPLOAD.
export const DEFAULT_MAX_UPLOAD = 10 * 1024 * 1024;

// GET /api/health every `every` ms: the runner's heartbeat and the
// server's request limits.
export function useHealth(every = 5000): { health: Health | null; error: unknown; maxUpload: number } {
  const [health, setHealth] = useState<Health | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let stop = false;
    const tick = () =>
      api.health().then(
        (h) => {
          if (!stop) {
            setHealth(h);
            setError(null);
          }
        },
        (e) => !stop && setError(e),
      );
    tick();
    const t = setInterval(tick, every);
    return () => {
      stop = true;
      clearInterval(t);
    };
  }, [every]);
  return { health, error, maxUpload: health?.limits?.max_upload || DEFAULT_MAX_UPLOAD };
}
