import { useCallback, useState } from 'react';
import { api } from '../api';
import type { DataRecord, RecordPage, RecordStats } from '../types';
import { filterToParams, type RecordFilter } from '../review/query';
import { useLatest } from './useLatest';

interface Loaded {
  key: string;
  page: RecordPage;
}

export interface RecordsQuery {
  filter: RecordFilter;
  sort: string;
  offset: number;
  size: number;
}

// One page of the records matching a filter, with the total: paged on the
// server, the request of a superseded query aborted. patch() changes a
// record in the page without a reload (a record accepted under the
// "pending" filter stays in view until the next load); reload() asks again.
export function useRecords(q: RecordsQuery, tick: number) {
  const params: Record<string, string | number> = { ...filterToParams(q.filter), limit: q.size, offset: q.offset };
  if (q.sort) params.sort = q.sort;
  const key = `${JSON.stringify(params)}#${tick}`;
  const s = useLatest(
    async (k: { params: Record<string, string | number>; key: string }, signal: AbortSignal): Promise<Loaded> => ({
      key: k.key,
      page: await api.recordsPage(k.params, signal),
    }),
    { params, key },
    key,
  );
  const { loader } = s;
  const patch = useCallback(
    (id: string, changes: Partial<DataRecord>) =>
      loader.set((d: Loaded | null) =>
        d ? { ...d, page: { ...d.page, records: d.page.records.map((r) => (r.id === id ? { ...r, ...changes } : r)) } } : d,
      ),
    [loader],
  );
  return {
    records: s.data?.page.records ?? null,
    total: s.data?.page.total ?? 0,
    // The page shown answers the query asked (not the one before it).
    fresh: s.data?.key === key && !s.loading,
    loading: s.loading,
    error: s.error,
    patch,
  };
}

// Counts and distributions of the records matching a filter
// (GET /api/records/stats).
export function useRecordStats(filter: RecordFilter, tick: number) {
  const params = filterToParams(filter);
  const s = useLatest((p: Record<string, string>, signal) => api.recordStats(p, signal), params, `${JSON.stringify(params)}#${tick}`);
  return { stats: s.data as RecordStats | null, error: s.error };
}

// A counter to bump when something changed on the server.
export function useTick(): [number, () => void] {
  const [tick, setTick] = useState(0);
  return [tick, useCallback(() => setTick((t) => t + 1), [])];
}
