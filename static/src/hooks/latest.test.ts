import { describe, expect, it } from 'vitest';
import { createLatest } from './latest';

// A fetcher whose answers the test releases by hand, remembering the
// signal of each call.
function controlled() {
  const calls: { q: number; signal: AbortSignal; resolve: (v: string) => void; reject: (e: unknown) => void }[] = [];
  const fetcher = (q: number, signal: AbortSignal) =>
    new Promise<string>((resolve, reject) => {
      calls.push({ q, signal, resolve, reject });
      signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })));
    });
  return { calls, fetcher };
}

describe('createLatest', () => {
  it('keeps the answer to the newest query and aborts the older one', async () => {
    const { calls, fetcher } = controlled();
    const l = createLatest(fetcher);
    const seen: boolean[] = [];
    l.subscribe(() => seen.push(l.get().loading));
    const p1 = l.load(1);
    const p2 = l.load(2);
    expect(calls[0].signal.aborted).toBe(true);
    expect(calls[1].signal.aborted).toBe(false);
    calls[1].resolve('page 2');
    await Promise.all([p1, p2]);
    expect(l.get()).toEqual({ data: 'page 2', loading: false, error: null });
    expect(seen[seen.length - 1]).toBe(false);
  });

  it('ignores a late answer to a superseded query', async () => {
    const calls: ((v: string) => void)[] = [];
    const l = createLatest((_q: number) => new Promise<string>((res) => calls.push(res)));
    const p1 = l.load(1);
    const p2 = l.load(2);
    calls[1]('new');
    calls[0]('old'); // arrives last, must not win
    await Promise.all([p1, p2]);
    expect(l.get().data).toBe('new');
  });

  it('keeps the last data and reports an error', async () => {
    const { calls, fetcher } = controlled();
    const l = createLatest(fetcher);
    const p1 = l.load(1);
    calls[0].resolve('ok');
    await p1;
    const p2 = l.load(2);
    calls[1].reject(new Error('boom'));
    await p2;
    expect(l.get().data).toBe('ok');
    expect((l.get().error as Error).message).toBe('boom');
  });

  it('abort() stops loading without an error; set() edits the data locally', async () => {
    const { fetcher } = controlled();
    const l = createLatest(fetcher);
    const p = l.load(1);
    l.abort();
    await p;
    expect(l.get()).toEqual({ data: null, loading: false, error: null });
    l.set(() => 'edited');
    expect(l.get().data).toBe('edited');
  });
});
