// How a record is shown in review: which fields exist, and which go on top
// (primary), below (secondary) or out of sight (hidden).
import type { DataRecord, FieldOrder, Json, JsonObject } from '../types';

// The record's final accumulated state: the last trace entry's state, or
// the metadata when there is no trace.
export function finalState(r: DataRecord): JsonObject {
  const t = r.trace;
  if (t && t.length) {
    const s = t[t.length - 1].accumulated_state;
    if (s && typeof s === 'object' && !Array.isArray(s)) return s as JsonObject;
  }
  return r.metadata || {};
}

// Field name -> value, "output" first; pipeline_output is the same as
// output and is left out.
export function recordFields(r: DataRecord): [string, Json][] {
  const out: [string, Json][] = [['output', r.output]];
  for (const [k, v] of Object.entries(finalState(r))) {
    if (k === 'output' || k === 'pipeline_output') continue;
    out.push([k, v]);
  }
  return out;
}

export function allFieldNames(records: DataRecord[], limit = 50): string[] {
  const names: string[] = [];
  for (const r of records.slice(0, limit)) for (const [k] of recordFields(r)) if (!names.includes(k)) names.push(k);
  return names;
}

export type Role = 'primary' | 'secondary' | 'hidden';

export function normalizeOrder(fo?: Partial<FieldOrder> | null): FieldOrder {
  const arr = (x: unknown) => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : []);
  return { primary: arr(fo?.primary), secondary: arr(fo?.secondary), hidden: arr(fo?.hidden) };
}

// A field's role: as configured, else "output" is primary and the rest
// secondary.
export function roleOf(order: FieldOrder, name: string): Role {
  if (order.primary.includes(name)) return 'primary';
  if (order.hidden.includes(name)) return 'hidden';
  if (order.secondary.includes(name)) return 'secondary';
  if (order.primary.length === 0 && name === 'output') return 'primary';
  return 'secondary';
}

// Splits a record's fields by role, primary ones in configured order.
export function arrange(order: FieldOrder, fields: [string, Json][]): Record<Role, [string, Json][]> {
  const res: Record<Role, [string, Json][]> = { primary: [], secondary: [], hidden: [] };
  for (const f of fields) res[roleOf(order, f[0])].push(f);
  const rank = (list: string[], n: string) => {
    const i = list.indexOf(n);
    return i < 0 ? 1e9 : i;
  };
  res.primary.sort((a, b) => rank(order.primary, a[0]) - rank(order.primary, b[0]));
  res.secondary.sort((a, b) => rank(order.secondary, a[0]) - rank(order.secondary, b[0]));
  return res;
}

export function withRole(order: FieldOrder, name: string, role: Role): FieldOrder {
  const strip = (l: string[]) => l.filter((x) => x !== name);
  const next: FieldOrder = { primary: strip(order.primary), secondary: strip(order.secondary), hidden: strip(order.hidden) };
  next[role].push(name);
  return next;
}
