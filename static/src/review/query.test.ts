import { describe, expect, it } from 'vitest';
import {
  barHeights, boundCount, describeFilter, filterFromParams, filterToBody, filterToParams, nextPendingIndex,
  pageCount, parseBound, sortFromParam, toggleSort, withRange, fmtNum,
} from './query';
import type { DataRecord } from '../types';

const rec = (id: string, status: DataRecord['status']): DataRecord =>
  ({ id, status, output: '', metadata: {}, job_id: '1', pipeline_id: '1', created_at: '', updated_at: '' }) as DataRecord;

describe('record filter', () => {
  it('reads the URL, keeping only well-formed criteria', () => {
    const f = filterFromParams(new URLSearchParams('pipeline_id=2&status=pending&q=tea&min.score=0.5&max.score=0.9&min.bad-name=1&max.len=abc&status2=x'));
    expect(f).toEqual({ pipeline_id: '2', job_id: '', status: 'pending', q: 'tea', ranges: { score: { min: 0.5, max: 0.9 } } });
    expect(filterFromParams(new URLSearchParams('status=bogus')).status).toBe('');
  });
  it('round-trips through query parameters', () => {
    const p = new URLSearchParams('job_id=7&q=a%25b&min.rouge_score=0.25');
    const f = filterFromParams(p);
    expect(filterToParams(f)).toEqual({ job_id: '7', q: 'a%b', 'min.rouge_score': '0.25' });
    expect(filterFromParams(new URLSearchParams(filterToParams(f)))).toEqual(f);
  });
  it('makes the bulk body with numbers for ids and bounds', () => {
    const f = filterFromParams(new URLSearchParams('job_id=7&status=pending&max.score=1'));
    expect(filterToBody(f)).toEqual({ job_id: 7, status: 'pending', 'max.score': 1 });
  });
  it('counts bounds and replaces one range', () => {
    let f = filterFromParams(new URLSearchParams('min.a=1&max.a=2&min.b=0'));
    expect(boundCount(f)).toBe(3);
    f = withRange(f, 'a', {});
    expect(f.ranges).toEqual({ b: { min: 0 } });
    f = withRange(f, 'c', { max: 3 });
    expect(boundCount(f)).toBe(2);
  });
  it('names the filter for a confirmation', () => {
    expect(describeFilter(filterFromParams(new URLSearchParams('')))).toBe('all records');
    expect(describeFilter(filterFromParams(new URLSearchParams('status=pending&q=x&min.s=0.5')))).toBe('status pending, output contains "x", s ≥ 0.5');
  });
});

describe('sorting and moving', () => {
  it('accepts created_at and field names only', () => {
    expect(sortFromParam('-score')).toBe('-score');
    expect(sortFromParam('created_at')).toBe('created_at');
    expect(sortFromParam('-')).toBe('');
    expect(sortFromParam('a b')).toBe('');
  });
  it('cycles a column: descending, ascending, off', () => {
    expect(toggleSort('', 'score')).toBe('-score');
    expect(toggleSort('-score', 'score')).toBe('score');
    expect(toggleSort('score', 'score')).toBe('');
    expect(toggleSort('-other', 'score')).toBe('-score');
  });
  it('finds the next pending record', () => {
    const list = [rec('1', 'pending'), rec('2', 'accepted'), rec('3', 'pending'), rec('4', 'rejected')];
    expect(nextPendingIndex(list, 0)).toBe(2);
    expect(nextPendingIndex(list, 2)).toBe(-1);
    expect(nextPendingIndex(list, -1)).toBe(0);
  });
  it('counts pages', () => {
    expect(pageCount(0, 50)).toBe(1);
    expect(pageCount(10000, 50)).toBe(200);
    expect(pageCount(101, 50)).toBe(3);
  });
});

describe('stats helpers', () => {
  it('scales histogram bars to the fullest bin', () => {
    expect(barHeights([{ from: 0, to: 1, count: 0 }, { from: 1, to: 2, count: 100 }, { from: 2, to: 3, count: 1 }])).toEqual([0, 100, 2]);
    expect(barHeights([])).toEqual([]);
  });
  it('parses typed bounds', () => {
    expect(parseBound(' ')).toEqual({ ok: true, value: undefined });
    expect(parseBound('0.5')).toEqual({ ok: true, value: 0.5 });
    expect(parseBound('abc')).toEqual({ ok: false });
    expect(parseBound('Infinity')).toEqual({ ok: false });
  });
  it('formats numbers compactly', () => {
    expect(fmtNum(0.123456)).toBe('0.1235');
    expect(fmtNum(12)).toBe('12');
    expect(fmtNum(undefined)).toBe('–');
  });
});
