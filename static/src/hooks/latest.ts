// A loader where the latest request wins: load(q) aborts the one in flight
// (AbortController) and only the answer to the newest query is kept, so a
// fast typist or pager never sees an older page arrive last. Kept apart
// from React so it can be tested without a DOM; useLatest() binds it to a
// component.
export interface LoadState<R> {
  data: R | null;
  loading: boolean;
  error: unknown;
}

export interface Latest<Q, R> {
  load: (q: Q) => Promise<void>;
  abort: () => void;
  get: () => LoadState<R>;
  set: (fn: (data: R | null) => R | null) => void; // local edit of the data
  subscribe: (fn: () => void) => () => void;
}

export function createLatest<Q, R>(fetcher: (q: Q, signal: AbortSignal) => Promise<R>): Latest<Q, R> {
  let state: LoadState<R> = { data: null, loading: false, error: null };
  let current: AbortController | null = null;
  const subs = new Set<() => void>();
  const emit = (next: LoadState<R>) => {
    state = next;
    for (const fn of subs) fn();
  };
  return {
    async load(q: Q) {
      current?.abort();
      const ctl = new AbortController();
      current = ctl;
      emit({ ...state, loading: true, error: null });
      try {
        const data = await fetcher(q, ctl.signal);
        if (ctl !== current) return;
        emit({ data, loading: false, error: null });
      } catch (e) {
        if (ctl !== current || ctl.signal.aborted) return;
        emit({ ...state, loading: false, error: e });
      } finally {
        if (ctl === current) current = null;
      }
    },
    abort() {
      current?.abort();
      current = null;
      if (state.loading) emit({ ...state, loading: false });
    },
    get: () => state,
    set(fn) {
      emit({ ...state, data: fn(state.data) });
    },
    subscribe(fn) {
      subs.add(fn);
      return () => {
        subs.delete(fn);
      };
    },
  };
}
