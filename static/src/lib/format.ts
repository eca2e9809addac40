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
