// Small display helpers shared by the pages.

export function fmtDuration(seconds: number): string {
  if (!isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 0.001) return `${Math.round(seconds * 1e6)} µs`;
  if (seconds < 0.01) return `${(seconds * 1000).toFixed(1)} ms`;
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m ${String(r).padStart(2, '0')}s` : `${m}m ${String(r).padStart(2, '0')}s`;
}

// Seconds between a job's start and its end (or now while it runs).
export function elapsedSeconds(startedAt?: string | null, completedAt?: string | null, now: number = Date.now()): number | null {
  if (!startedAt) return null;
  const start = Date.parse(startedAt);
  if (isNaN(start)) return null;
  const end = completedAt ? Date.parse(completedAt) : now;
  if (isNaN(end)) return null;
  return Math.max(0, (end - start) / 1000);
}

export function fmtTime(iso?: string | null): string {
  if (!iso) return '–';
  const t = Date.parse(iso);
  if (isNaN(t)) return iso;
  return new Date(t).toLocaleString();
}

export function fmtInt(n?: number | null): string {
  if (n === undefined || n === null || !isFinite(n)) return '0';
  return Math.round(n).toLocaleString('en-US');
}

export function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}

export function preview(v: unknown, max = 160): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  if (s === undefined) return '';
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

// Save a string as a file through a temporary object URL.
export function downloadText(filename: string, text: string, type = 'application/json') {
  const blob = new Blob([text], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// The server's messages count blocks and seeds from 0, as the field paths in
// `detail` do; people count from 1, like the builder's node labels. Turns
// "blocks[0].config.user_prompt" into "block 1 (user_prompt)", "seed 2" into
// "seed 3" and "seeds 1, 2" into "seeds 2, 3" in the sentence shown; the
// detail keeps its 0-based paths.
export function humanize(msg: string): string {
  return msg
    .replace(/\bblocks\[(\d+)\]\.config\.([A-Za-z0-9_]+)/g, (_, i, k) => `block ${Number(i) + 1} (${k})`)
    .replace(/\bblocks\[(\d+)\](\.[A-Za-z0-9_.]+)?/g, (_, i, rest) => `block ${Number(i) + 1}${rest ? ` (${rest.slice(1)})` : ''}`)
    .replace(/\b([Ss]eeds?) (\d+(?:, \d+)*)/g, (_, word, list: string) => `${word} ${list.split(', ').map((n) => Number(n) + 1).join(', ')}`);
}

// Executions per second so far, and the seconds left at that pace.
export function throughput(done: number, total: number, elapsed: number | null): { perSecond: number | null; etaSeconds: number | null } {
  if (!elapsed || elapsed <= 0) return { perSecond: null, etaSeconds: null };
  const perSecond = done / elapsed;
  return { perSecond, etaSeconds: perSecond > 0 ? Math.max(0, (total - done) / perSecond) : null };
}

// Pipelines may share a name: every place that lists them shows the id too.
export function pipelineLabel(p: { id: string; name: string }): string {
  return `${p.name} · #${p.id}`;
}
