import { describe, expect, it } from 'vitest';
import { inspect, mib } from './seedFile';

const file = (text: string, name = 'seeds.json') => new File([text], name);

describe('seed file checks', () => {
  it('refuses a file over the server limit, naming both sizes', async () => {
    const p = await inspect(file('x'.repeat(3 * 1048576)), 2 * 1048576);
    expect(p.parseError).toBe('The file is 3 MiB; the upload limit is 2 MiB.');
    const ok = await inspect(file('[{"metadata":{}}]'), 2 * 1048576);
    expect(ok.parseError).toBeUndefined();
    expect(ok.executions).toBe(1);
  });
  it('counts seeds and executions', async () => {
    const p = await inspect(file('[{"metadata":{"a":1},"repetitions":3},{"metadata":{}}]'), 1 << 20);
    expect([p.seedCount, p.executions]).toEqual([2, 4]);
  });
  it('reads markdown as words', async () => {
    const p = await inspect(file('# T\n\nsome words here', 'doc.md'), 1 << 20);
    expect(p.kind).toBe('md');
    expect(p.words).toBe(5); // "#" counts as a word
  });
  it('writes sizes in MiB', () => {
    expect(mib(10485760)).toBe('10 MiB');
    expect(mib(1.5 * 1048576)).toBe('1.5 MiB');
  });
});
