import { useEffect, useState, useSyncExternalStore } from 'react';
import { createLatest, type Latest, type LoadState } from './latest';

// A latest-wins loader (latest.ts) owned by the component: it loads again
// whenever key changes (the query, serialized) and aborts the request in
// flight when the component goes away.
export function useLatest<Q, R>(fetcher: (q: Q, signal: AbortSignal) => Promise<R>, query: Q, key: string): LoadState<R> & { loader: Latest<Q, R> } {
  const [loader] = useState(() => createLatest(fetcher));
  const state = useSyncExternalStore(loader.subscribe, loader.get);
  useEffect(() => {
    loader.load(query);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [loader, key]);
  useEffect(() => () => loader.abort(), [loader]);
  return { ...state, loader };
}
