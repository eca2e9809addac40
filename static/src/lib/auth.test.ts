import { describe, expect, it } from 'vitest';
import { ApiError } from '../api';
import {
  REVEAL_NONE, authFromMe, loginErrorText, loginRedirect, nextAuth, parseExpiryDays, passwordProblem,
  quotaChanges, quotaLabel, revealReducer, safeNext,
} from './auth';

const err = (status: number, retryAfter: number | null = null) => new ApiError(status, 'x', {}, retryAfter);

describe('authFromMe', () => {
  it('a user when /me answers, anonymous on 401, accounts off on 404', () => {
    expect(authFromMe({ me: { name: 'ann', role: 'member' } })).toEqual({ kind: 'user', user: { name: 'ann', role: 'member' } });
    expect(authFromMe({ error: err(401) })).toEqual({ kind: 'anonymous' });
    expect(authFromMe({ error: err(404) })).toEqual({ kind: 'off' });
  });
  it('unknown when the server cannot say', () => {
    expect(authFromMe({ error: err(0) }).kind).toBe('unknown');
    expect(authFromMe({ error: err(500) }).kind).toBe('unknown');
    expect(authFromMe({ error: new Error('boom') }).kind).toBe('unknown');
  });
});

describe('nextAuth', () => {
  it('keeps a known session when the server is only unreachable', () => {
    const user = { kind: 'user', user: { name: 'a', role: 'admin' } } as const;
    expect(nextAuth(user, { kind: 'unknown' })).toBe(user);
    expect(nextAuth({ kind: 'loading' }, { kind: 'unknown' })).toEqual({ kind: 'unknown' });
    expect(nextAuth(user, { kind: 'anonymous' })).toEqual({ kind: 'anonymous' });
  });
});

describe('loginRedirect', () => {
  it('remembers the whole place the user was', () => {
    expect(loginRedirect({ pathname: '/review', search: '?job_id=3', hash: '#r' })).toBe('/login?next=%2Freview%3Fjob_id%3D3%23r');
    expect(loginRedirect({ pathname: '/pipelines/7/edit' })).toBe('/login?next=%2Fpipelines%2F7%2Fedit');
  });
  it('no next for the root, and no redirect from the login page itself', () => {
    expect(loginRedirect({ pathname: '/' })).toBe('/login');
    expect(loginRedirect({ pathname: '/login', search: '?next=%2Freview' })).toBeNull();
  });
});

describe('safeNext', () => {
  it('goes back to a path of this site', () => {
    expect(safeNext('/review?job_id=3')).toBe('/review?job_id=3');
    expect(safeNext(decodeURIComponent(loginRedirect({ pathname: '/generator', search: '?p=1' })!.split('next=')[1]))).toBe('/generator?p=1');
  });
  it('never to another site, nor back to the login page', () => {
    for (const bad of [null, '', 'https://evil.example/', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)', '/login', '/login?next=/x']) {
      expect(safeNext(bad)).toBe('/pipelines');
    }
  });
});

describe('loginErrorText', () => {
  it('the same words for an unknown name and a wrong password', () => {
    expect(loginErrorText(err(401))).toBe('Wrong name or password.');
  });
  it('a 429 says how long to wait', () => {
    expect(loginErrorText(err(429, 30))).toBe('Too many attempts, try again in 30 s.');
    expect(loginErrorText(err(429))).toBe('Too many attempts, try again in a moment.');
  });
});

describe('revealReducer (a new token is shown once)', () => {
  it('shows the token until closed, then forgets it for good', () => {
    let s = revealReducer(REVEAL_NONE, { type: 'created', token: 'dgen_abc', name: 'ci' });
    expect(s).toEqual({ token: 'dgen_abc', name: 'ci', copied: false });
    s = revealReducer(s, { type: 'copied' });
    expect(s.copied).toBe(true);
    expect(s.token).toBe('dgen_abc');
    s = revealReducer(s, { type: 'closed' });
    expect(s.token).toBeNull();
    expect(revealReducer(s, { type: 'copied' })).toEqual(REVEAL_NONE);
  });
  it('a second token starts uncopied', () => {
    const a = revealReducer(revealReducer(REVEAL_NONE, { type: 'created', token: 't1', name: 'a' }), { type: 'copied' });
    expect(revealReducer(a, { type: 'created', token: 't2', name: 'b' })).toEqual({ token: 't2', name: 'b', copied: false });
  });
});

describe('form checks', () => {
  it('passwords need 12 characters', () => {
    expect(passwordProblem('short')).toMatch(/At least 12 characters \(5 so far\)/);
    expect(passwordProblem('')).toBe('Enter a password.');
    expect(passwordProblem('twelve chars')).toBeNull();
    expect(passwordProblem('ééééééééééé')).not.toBeNull(); // counts characters, not bytes
  });
  it('expiry days: empty is never, otherwise a whole number of days', () => {
    expect(parseExpiryDays('')).toBeNull();
    expect(parseExpiryDays(' 30 ')).toBe(30);
    expect(parseExpiryDays('0')).toBeUndefined();
    expect(parseExpiryDays('1.5')).toBeUndefined();
    expect(parseExpiryDays('-3')).toBeUndefined();
  });
  it('quota edits send only what changed, and refuse a non-number', () => {
    expect(quotaChanges({ jobs: 4, executions: 10 }, { jobs: '6', executions: '10' })).toEqual({ changes: { jobs: 6 } });
    expect(quotaChanges({ jobs: 4 }, { jobs: 'many' })).toEqual({ bad: 'jobs' });
    expect(quotaLabel('jobs')).toBe('Jobs queued or running');
    expect(quotaLabel('new_thing')).toBe('new thing');
  });
});
