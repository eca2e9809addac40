// What an edit of a record sends.
import type { DataRecord, JsonObject } from '../types';

// The PUT body for the edit, or a message saying what is wrong; null when
// nothing changed.
export function editBody(r: DataRecord, output: string, metaText: string): { body: JsonObject | null } | { error: string } {
  let meta: JsonObject;
  try {
    const m = JSON.parse(metaText);
    if (!m || typeof m !== 'object' || Array.isArray(m)) throw new Error('metadata must be a JSON object');
    meta = m as JsonObject;
  } catch (e) {
    return { error: `Metadata: ${(e as Error).message}` };
  }
  const body: JsonObject = {};
  if (output !== r.output) body.output = output;
  if (JSON.stringify(meta) !== JSON.stringify(r.metadata || {})) body.metadata = meta;
  return { body: Object.keys(body).length ? body : null };
}
