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
