import { describe, expect, it } from 'vitest';
import { idValue, normIds, uuid4 } from './api';

describe('normIds', () => {
  it('turns numeric ids into strings, leaving other numbers alone', () => {
    const jobs = normIds([{ id: 7, pipeline_id: 3, total_seeds: 4 }]);
    expect(jobs).toEqual([{ id: '7', pipeline_id: '3', total_seeds: 4 }]);
    expect(normIds({ job_id: 12 })).toEqual({ job_id: '12' });
    expect(normIds({ id: 'abc' })).toEqual({ id: 'abc' });
  });
});

describe('uuid4', () => {
  it('makes distinct version-4 UUIDs', () => {
    const a = uuid4();
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuid4()).not.toBe(a);
  });
});

describe('idValue', () => {
  it('sends numeric ids back as numbers', () => {
    expect(idValue('42')).toBe(42);
    expect(idValue('ab-1')).toBe('ab-1');
    expect(idValue('007')).toBe('007');
  });
});

describe('requests carry what the cookie rule asks', () => {
  it('every request says X-Requested-With, and extra headers keep it', async () => {
    const { requestHeaders } = await import('./api');
    expect(requestHeaders()['X-Requested-With']).toBe('dgen');
    expect(requestHeaders({ 'Idempotency-Key': 'k' })).toMatchObject({ 'X-Requested-With': 'dgen', 'Idempotency-Key': 'k' });
  });
});

describe('a 401 tells the app, except where it is an expected answer', () => {
  it('an ordinary request tells; login and /me do not', async () => {
    const { api, onUnauthorized, ApiError: E } = await import('./api');
    const seen: string[] = [];
    const calls: { url: string; headers: Record<string, string> }[] = [];
    const orig = globalThis.fetch;
    globalThis.fetch = (async (url: string, init: RequestInit) => {
      calls.push({ url, headers: init.headers as Record<string, string> });
      const status = url.includes('/api/auth/login') && init.method === 'POST' && String(init.body).includes('slow') ? 429 : 401;
      return new Response(JSON.stringify({ error: 'no' }), { status, headers: status === 429 ? { 'Retry-After': '17' } : {} });
    }) as typeof fetch;
    const off = onUnauthorized(() => seen.push('401'));
    try {
      await expect(api.pipelines()).rejects.toBeInstanceOf(E);
      expect(seen).toEqual(['401']);
      await expect(api.me()).rejects.toMatchObject({ status: 401 });
      await expect(api.login('a', 'b')).rejects.toMatchObject({ status: 401 });
      expect(seen).toEqual(['401']);
      await expect(api.login('slow', 'b')).rejects.toMatchObject({ status: 429, retryAfter: 17 });
      await expect(api.deletePipeline('3')).rejects.toMatchObject({ status: 401 });
      expect(calls.every((c) => c.headers['X-Requested-With'] === 'dgen')).toBe(true);
    } finally {
      off();
      globalThis.fetch = orig;
    }
  });
});
