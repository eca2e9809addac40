// A seed file chosen on the generator page, checked before it is sent.
import type { Json } from '../types';

// Bytes as MiB for a sentence ("10 MiB", "12.5 MiB").
export function mib(bytes: number): string {
  const v = bytes / 1048576;
  return `${Number.isInteger(v) ? v : v.toFixed(1)} MiB`;
}

export interface Picked {
  file: File;
  kind: 'json' | 'md';
  seeds?: Json; // parsed JSON seeds
  seedCount?: number;
  executions?: number;
  parseError?: string;
  words?: number;
}

// Reads a chosen file and checks what can be checked without the server:
// the JSON parses, it is an array of seeds or one seed, repetitions add up.
// maxUpload is the server's limit (GET /api/health).
export async function inspect(file: File, maxUpload: number): Promise<Picked> {
  const lower = file.name.toLowerCase();
  const kind: 'json' | 'md' = lower.endsWith('.md') || lower.endsWith('.markdown') ? 'md' : 'json';
  if (file.size > maxUpload) return { file, kind, parseError: `The file is ${mib(file.size)}; the upload limit is ${mib(maxUpload)}.` };
  const text = await file.text();
  if (kind === 'md') return { file, kind, words: text.split(/\s+/).filter(Boolean).length };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { file, kind, parseError: `The file is not valid JSON: ${(e as Error).message}` };
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  let executions = 0;
  for (let i = 0; i < list.length; i++) {
    const s = list[i] as { metadata?: unknown; repetitions?: unknown } | null;
    if (!s || typeof s !== 'object' || Array.isArray(s)) return { file, kind, parseError: `Seed ${i + 1} is not an object with "metadata".` };
    if (!s.metadata || typeof s.metadata !== 'object' || Array.isArray(s.metadata)) return { file, kind, parseError: `Seed ${i + 1} has no "metadata" object.` };
    const r = s.repetitions === undefined ? 1 : s.repetitions;
    if (typeof r !== 'number' || !Number.isInteger(r) || r < 1) return { file, kind, parseError: `Seed ${i + 1}: "repetitions" must be a whole number of at least 1.` };
    executions += r;
  }
  return { file, kind, seeds: parsed as Json, seedCount: list.length, executions };
}

