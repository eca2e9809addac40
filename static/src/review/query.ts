// The record filter of the review page: read from and written to the page
// URL, sent as the query of GET /api/records, /api/records/stats and
// /api/export, and as the body filter of POST /api/records/bulk. One
// shape for all, like the server's struct dgen_record_filter.
import type { DataRecord, HistogramBin, JsonObject, RecordStatus } from '../types';

export interface Range {
  min?: number;
  max?: number;
}

export interface RecordFilter {
  pipeline_id: string;
  job_id: string;
  status: RecordStatus | '';
  q: string;
  ranges: Record<string, Range>; // state field -> bounds
}

// What the server takes (docs/api.md): field names, search length, bounds.
export const FIELD_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
export const MAX_Q = 256;
export const MAX_BOUNDS = 8;
const STATUSES = ['pending', 'accepted', 'rejected', 'edited'];

function num(s: string | null): number | undefined {
  if (s === null || s.trim() === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

// The filter in URL parameters; unknown or malformed values are dropped,
// so a hand-edited URL cannot make every request fail.
export function filterFromParams(p: URLSearchParams): RecordFilter {
  const status = p.get('status') || '';
  const ranges: Record<string, Range> = {};
  for (const [k, v] of p.entries()) {
    const m = /^(min|max)\.(.+)$/.exec(k);
    if (!m || !FIELD_RE.test(m[2])) continue;
    const n = num(v);
    if (n === undefined) continue;
    ranges[m[2]] = { ...ranges[m[2]], [m[1]]: n };
  }
  return {
    pipeline_id: p.get('pipeline_id') || '',
    job_id: p.get('job_id') || '',
    status: (STATUSES.includes(status) ? status : '') as RecordStatus | '',
    q: (p.get('q') || '').slice(0, MAX_Q),
    ranges,
  };
}

// Query parameters of the filter (empty criteria left out).
export function filterToParams(f: RecordFilter): Record<string, string> {
  const out: Record<string, string> = {};
  if (f.pipeline_id) out.pipeline_id = f.pipeline_id;
  if (f.job_id) out.job_id = f.job_id;
  if (f.status) out.status = f.status;
  if (f.q) out.q = f.q;
  for (const [field, r] of Object.entries(f.ranges)) {
    if (r.min !== undefined) out[`min.${field}`] = String(r.min);
    if (r.max !== undefined) out[`max.${field}`] = String(r.max);
  }
  return out;
}

// The body filter of POST /api/records/bulk: ids as integers, bounds as
// numbers.
export function filterToBody(f: RecordFilter): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(filterToParams(f))) {
    if (k === 'job_id' || k === 'pipeline_id' || k.startsWith('min.') || k.startsWith('max.')) out[k] = Number(v);
    else out[k] = v;
  }
  return out;
}

// How many min./max. bounds the filter has (the server takes MAX_BOUNDS).
export function boundCount(f: RecordFilter): number {
  let n = 0;
  for (const r of Object.values(f.ranges)) n += (r.min !== undefined ? 1 : 0) + (r.max !== undefined ? 1 : 0);
  return n;
}

// A filter with one field's range replaced (both ends undefined: removed).
export function withRange(f: RecordFilter, field: string, r: Range): RecordFilter {
  const ranges = { ...f.ranges };
  if (r.min === undefined && r.max === undefined) delete ranges[field];
  else ranges[field] = r;
  return { ...f, ranges };
}

// A short sentence naming the filter, for the bulk confirmation.
export function describeFilter(f: RecordFilter): string {
  const parts: string[] = [];
  if (f.status) parts.push(`status ${f.status}`);
  if (f.pipeline_id) parts.push(`pipeline #${f.pipeline_id}`);
  if (f.job_id) parts.push(`job #${f.job_id}`);
  if (f.q) parts.push(`output contains "${f.q}"`);
  for (const [k, r] of Object.entries(f.ranges)) {
    if (r.min !== undefined && r.max !== undefined) parts.push(`${r.min} ≤ ${k} ≤ ${r.max}`);
    else if (r.min !== undefined) parts.push(`${k} ≥ ${r.min}`);
    else if (r.max !== undefined) parts.push(`${k} ≤ ${r.max}`);
  }
  return parts.length ? parts.join(', ') : 'all records';
}

// Sort: '' (newest first), 'created_at', '<field>' or '-<field>'.
export function sortFromParam(s: string | null): string {
  if (!s) return '';
  const name = s.startsWith('-') ? s.slice(1) : s;
  return FIELD_RE.test(name) ? s : '';
}

// A click on a column header: highest first, then lowest first, then back.
export function toggleSort(current: string, field: string): string {
  if (current === `-${field}`) return field;
  if (current === field) return '';
  return `-${field}`;
}

export function sortDirection(current: string, field: string): 'descending' | 'ascending' | 'none' {
  if (current === `-${field}`) return 'descending';
  if (current === field) return 'ascending';
  return 'none';
}

// The index of the first pending record after index `from`, or -1.
export function nextPendingIndex(records: DataRecord[], from: number): number {
  for (let i = from + 1; i < records.length; i++) if (records[i].status === 'pending') return i;
  return -1;
}

export function pageCount(total: number, size: number): number {
  return Math.max(1, Math.ceil(total / size));
}

// Bar heights of a histogram in percent of its fullest bin (a non-empty
// bin is never drawn thinner than 2 %).
export function barHeights(bins: HistogramBin[]): number[] {
  const top = Math.max(0, ...bins.map((b) => b.count));
  return bins.map((b) => (top === 0 || b.count === 0 ? 0 : Math.max(2, Math.round((b.count / top) * 100))));
}

// A bound typed by the user: '' is "no bound", anything else must be a
// finite number.
export function parseBound(s: string): { ok: true; value: number | undefined } | { ok: false } {
  const t = s.trim();
  if (t === '') return { ok: true, value: undefined };
  const n = Number(t);
  return Number.isFinite(n) ? { ok: true, value: n } : { ok: false };
}

// Compact number for stats (at most 4 significant digits).
export function fmtNum(n: number | undefined | null): string {
  if (n === undefined || n === null || !Number.isFinite(n)) return '–';
  if (Number.isInteger(n)) return String(n);
  return String(Number(n.toPrecision(4)));
}
