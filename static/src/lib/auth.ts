// Pure rules of signing in: what the app does with the answer of
// GET /api/auth/me, where a lost session sends the user and where login
// sends them back, how login errors read, and the copy-once state of a new
// API token. Kept free of React so they are unit-tested on their own.
import { ApiError } from '../api';
import type { Me } from '../types';

// loading: asking the server; user: signed in; anonymous: must sign in;
// off: the server has no accounts (it answers 404 to /api/auth/me), the UI
// works as it always did; unknown: the server could not say (down, or an
// error): the pages render and show their own "cannot reach" state, and
// the question is asked again when the server is back.
export type AuthState =
  | { kind: 'loading' }
  | { kind: 'user'; user: Me }
  | { kind: 'anonymous' }
  | { kind: 'off' }
  | { kind: 'unknown' };

export function authFromMe(result: { me: Me } | { error: unknown }): AuthState {
  if ('me' in result) return { kind: 'user', user: result.me };
  const e = result.error;
  if (e instanceof ApiError) {
    if (e.status === 401) return { kind: 'anonymous' };
    if (e.status === 404) return { kind: 'off' };
  }
  return { kind: 'unknown' };
}

export const LOGIN_PATH = '/login';
export const HOME_PATH = '/pipelines';

// The login URL that brings the user back to where they were, or null when
// they already are on the login page (no redirect loop, no next=/login).
export function loginRedirect(loc: { pathname: string; search?: string; hash?: string }): string | null {
  if (loc.pathname === LOGIN_PATH) return null;
  const here = `${loc.pathname}${loc.search || ''}${loc.hash || ''}`;
  if (here === '/' || here === '') return LOGIN_PATH;
  return `${LOGIN_PATH}?next=${encodeURIComponent(here)}`;
}

// Where to go after login: the `next` parameter when it is a path of this
// site (never another origin: "//host" or "https://…"), else the home page.
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return HOME_PATH;
  const path = next.split(/[?#]/)[0];
  if (path === LOGIN_PATH) return HOME_PATH;
  return next;
}

export function tooManyText(seconds: number | null): string {
  if (seconds === null || seconds <= 0) return 'Too many attempts, try again in a moment.';
  return `Too many attempts, try again in ${seconds} s.`;
}

// The sentence under the login form. The server answers the same for an
// unknown name and a wrong password, and so does this.
export function loginErrorText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 401) return 'Wrong name or password.';
    if (e.status === 429) return tooManyText(e.retryAfter);
    if (e.status === 0) return e.message;
    if (e.status === 404) return 'This server has no accounts: nothing to sign in to.';
  }
  return e instanceof Error ? e.message : String(e);
}

export const MIN_PASSWORD = 12;

// Why a new password is not acceptable yet, or null (the server checks
// again and answers 422).
export function passwordProblem(pw: string): string | null {
  if (pw.length === 0) return 'Enter a password.';
  if ([...pw].length < MIN_PASSWORD) return `At least ${MIN_PASSWORD} characters (${[...pw].length} so far).`;
  return null;
}

// A new API token is shown exactly once: from creation until the dialog
// closes. Closing forgets it; nothing brings it back.
export interface Reveal {
  token: string | null;
  name: string;
  copied: boolean;
}
export type RevealAction = { type: 'created'; token: string; name: string } | { type: 'copied' } | { type: 'closed' };
export const REVEAL_NONE: Reveal = { token: null, name: '', copied: false };

export function revealReducer(s: Reveal, a: RevealAction): Reveal {
  switch (a.type) {
    case 'created':
      return { token: a.token, name: a.name, copied: false };
    case 'copied':
      return s.token === null ? s : { ...s, copied: true };
    case 'closed':
      return REVEAL_NONE;
  }
}

// Days from a form field: empty means "never expires"; otherwise a whole
// number of days from 1 on. Returns undefined for an invalid entry.
export function parseExpiryDays(v: string): number | null | undefined {
  const t = v.trim();
  if (t === '') return null;
  if (!/^[0-9]+$/.test(t)) return undefined;
  const n = Number(t);
  return n >= 1 && n <= 36500 ? n : undefined;
}

// A new answer about the session, folded into the state: an answer that
// says nothing (server unreachable) keeps what was known, so a signed-in
// user is not thrown out by a network blip.
export function nextAuth(prev: AuthState, answer: AuthState): AuthState {
  if (answer.kind === 'unknown' && prev.kind !== 'loading') return prev;
  return answer;
}

// Words for the quota keys the server names; an unknown key shows as is.
const QUOTA_LABELS: Record<string, string> = {
  jobs: 'Jobs queued or running',
  executions: 'Executions per job',
  llm_in_flight: 'LLM requests in flight',
};
export function quotaLabel(key: string): string {
  return QUOTA_LABELS[key] ?? key.replace(/_/g, ' ');
}

// The quota form's text fields back to numbers: only changed fields are
// sent; a field must hold a whole number >= 0. Returns the changes, or the
// key of the first bad field.
export function quotaChanges(
  before: Record<string, number | null>,
  fields: Record<string, string>,
): { changes: Record<string, number> } | { bad: string } {
  const changes: Record<string, number> = {};
  for (const [k, v] of Object.entries(fields)) {
    const t = v.trim();
    if (!/^[0-9]+$/.test(t)) return { bad: k };
    const n = Number(t);
    if (before[k] !== n) changes[k] = n;
  }
  return { changes };
}
