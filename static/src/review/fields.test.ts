import { describe, expect, it } from 'vitest';
import { arrange, normalizeOrder, recordFields, roleOf, withRole } from './fields';
import type { DataRecord } from '../types';

const rec: DataRecord = {
  id: 'r1', output: 'hello', metadata: { topic: 'sea' }, status: 'pending', job_id: 'j', pipeline_id: 'p',
  created_at: '', updated_at: '',
  trace: [
    { block_type: 'A', accumulated_state: { topic: 'sea', assistant: 'hello' } },
    { block_type: 'B', accumulated_state: { topic: 'sea', assistant: 'hello', score: 0.5, pipeline_output: 'hello' } },
  ],
};

describe('review fields', () => {
  it('takes fields from the final state, output first, without pipeline_output', () => {
    expect(recordFields(rec).map(([k]) => k)).toEqual(['output', 'topic', 'assistant', 'score']);
  });
  it('falls back to metadata without a trace', () => {
    expect(recordFields({ ...rec, trace: null }).map(([k]) => k)).toEqual(['output', 'topic']);
  });
  it('defaults to output primary, the rest secondary', () => {
    const o = normalizeOrder(null);
    expect(roleOf(o, 'output')).toBe('primary');
    expect(roleOf(o, 'topic')).toBe('secondary');
  });
  it('applies a saved layout in its order', () => {
    let o = normalizeOrder({ primary: ['score', 'topic'], hidden: ['assistant'] });
    const a = arrange(o, recordFields(rec));
    expect(a.primary.map(([k]) => k)).toEqual(['score', 'topic']);
    expect(a.secondary.map(([k]) => k)).toEqual(['output']);
    expect(a.hidden.map(([k]) => k)).toEqual(['assistant']);
    o = withRole(o, 'assistant', 'primary');
    expect(o.hidden).toEqual([]);
    expect(o.primary).toEqual(['score', 'topic', 'assistant']);
  });
  it('ignores junk in a stored layout', () => {
    expect(normalizeOrder({ primary: ['a', 3 as unknown as string], secondary: 'x' as unknown as string[] })).toEqual({ primary: ['a'], secondary: [], hidden: [] });
  });
});
