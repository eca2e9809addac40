import { describe, expect, it } from 'vitest';
import { editBody } from './edit';
import type { DataRecord } from '../types';

const r = { id: '1', output: 'old', metadata: { a: 1 }, status: 'pending' } as unknown as DataRecord;

describe('editBody', () => {
  it('sends only what changed', () => {
    expect(editBody(r, 'new', '{"a":1}')).toEqual({ body: { output: 'new' } });
    expect(editBody(r, 'old', '{"a":2}')).toEqual({ body: { metadata: { a: 2 } } });
    expect(editBody(r, 'old', '{ "a": 1 }')).toEqual({ body: null });
  });
  it('refuses metadata that is no JSON object', () => {
    expect(editBody(r, 'old', '[1]')).toEqual({ error: 'Metadata: metadata must be a JSON object' });
    expect('error' in editBody(r, 'old', '{')).toBe(true);
  });
});
