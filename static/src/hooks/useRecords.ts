import { useCallback, useState } from 'react';
import { api } from '../api';
import type { DataRecord, RecordPage, RecordStats } from '../types';
import { filterToParams, type RecordFilter } from '../review/query';
import { useLatest } from './useLatest';

export interface RecordsQuery {
  filter: RecordFilter;
  sort: string;
  page: number; // from 0
  size: number;
}

// One page of the records matching a filter, with the total: paged on the
// server, the request of a superseded query aborted. patch() changes a
// record in the page without a reload (a record accepted under the
// "pending" filter stays in view until the next load); reload() asks again.
export function useRecords(q: RecordsQuery, tick: number) {
  const params: Record<string, string | number> = { ...filterToParams(q.filter), limit: q.size, offset: q.page * q.size };
  if (q.sort) params.sort = q.sort;
  const key = `${JSON.stringify(params)}#${tick}`;
  const s = useLatest((p: Record<string, string | number>, signal) => api.recordsPage(p, signal), params, key);
  const { loader } = s;
  const patch = useCallback(
    (id: string, changes: Partial<DataRecord>) =>
      loader.set((d: RecordPage | null) => (d ? { ...d, records: d.records.map((r) => (r.id === id ? { ...r, ...changes } : r)) } : d)),
    [loader],
  );
  return { records: s.data?.records ?? null, total: s.data?.total ?? 0, loading: s.loading, error: s.error, patch };
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
