import { describe, expect, it } from 'vitest';
import { humanize, throughput } from './format';

describe('humanize', () => {
  it('counts blocks and seeds from 1 in sentences', () => {
    expect(humanize("'topic' used by blocks[0].config.user_prompt is missing from the metadata of seeds 1, 2")).toBe(
      "'topic' used by block 1 (user_prompt) is missing from the metadata of seeds 2, 3",
    );
    expect(humanize("Seed 1: 'repetitions' must be an integer from 1 to 10000")).toBe("Seed 2: 'repetitions' must be an integer from 1 to 10000");
    expect(humanize('missing from the metadata of seed 0')).toBe('missing from the metadata of seed 1');
    expect(humanize('blocks[2] (MarkdownMultiplierBlock) must be first')).toBe('block 3 (MarkdownMultiplierBlock) must be first');
    expect(humanize('bad blocks[1].type')).toBe('bad block 2 (type)');
  });
  it('leaves counts and other numbers alone', () => {
    expect(humanize('of seeds 0, 1, 2, 3, 4 and 12 more')).toBe('of seeds 1, 2, 3, 4, 5 and 12 more');
    expect(humanize("Block 'X' failed at step 2: boom")).toBe("Block 'X' failed at step 2: boom");
  });
});

describe('throughput', () => {
  it('gives executions per second and the time left', () => {
    expect(throughput(50, 100, 10)).toEqual({ perSecond: 5, etaSeconds: 10 });
    expect(throughput(0, 100, 10)).toEqual({ perSecond: 0, etaSeconds: null });
    expect(throughput(10, 100, 0)).toEqual({ perSecond: null, etaSeconds: null });
  });
});
