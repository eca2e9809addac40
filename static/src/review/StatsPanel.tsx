// The distribution of every numeric state field of the records matching
// the filter (GET /api/records/stats), with a range filter per field.
import { useEffect, useState } from 'react';
import { Box, Button, Text, TextInput } from '@primer/react';
import type { FieldStats, RecordStats } from '../types';
import { fmtInt } from '../lib/format';
import { barHeights, fmtNum, parseBound, type Range } from './query';

function RangeInputs({ field, range, onRange }: { field: string; range: Range; onRange: (r: Range) => void }) {
  const [min, setMin] = useState(range.min === undefined ? '' : String(range.min));
  const [max, setMax] = useState(range.max === undefined ? '' : String(range.max));
  const [bad, setBad] = useState(false);
  useEffect(() => {
    setMin(range.min === undefined ? '' : String(range.min));
    setMax(range.max === undefined ? '' : String(range.max));
  }, [range.min, range.max]);
  const apply = () => {
    const lo = parseBound(min);
    const hi = parseBound(max);
    if (!lo.ok || !hi.ok) {
      setBad(true);
      return;
    }
    setBad(false);
    if (lo.value !== range.min || hi.value !== range.max) onRange({ min: lo.value, max: hi.value });
  };
  const key = (e: React.KeyboardEvent) => {
    if (e.key === 'Enter') apply();
  };
  return (
    <Box sx={{ display: 'flex', gap: 1, alignItems: 'center', mt: 1 }}>
      <TextInput size="small" sx={{ width: 80 }} placeholder="min" aria-label={`Minimum ${field}`} value={min} onChange={(e) => setMin(e.target.value)} onKeyDown={key} onBlur={apply} validationStatus={bad ? 'error' : undefined} data-testid={`range-min-${field}`} />
      <Text sx={{ color: 'fg.muted' }}>–</Text>
      <TextInput size="small" sx={{ width: 80 }} placeholder="max" aria-label={`Maximum ${field}`} value={max} onChange={(e) => setMax(e.target.value)} onKeyDown={key} onBlur={apply} validationStatus={bad ? 'error' : undefined} data-testid={`range-max-${field}`} />
      {range.min !== undefined || range.max !== undefined ? (
        <Button size="small" variant="invisible" onClick={() => onRange({})} data-testid={`range-clear-${field}`}>
          Clear
        </Button>
      ) : null}
    </Box>
  );
}

function FieldCard({ name, st, range, onRange }: { name: string; st: FieldStats; range: Range; onRange: (r: Range) => void }) {
  const bins = st.histogram || [];
  const heights = barHeights(bins);
  return (
    <Box data-testid={`stats-field-${name}`} sx={{ border: '1px solid', borderColor: 'border.default', borderRadius: 2, p: 2, minWidth: 220 }}>
      <Box sx={{ display: 'flex', gap: 2, alignItems: 'baseline' }}>
        <Text sx={{ fontWeight: 'bold', flex: 1 }}>{name}</Text>
        <Text sx={{ fontSize: 0, color: 'fg.muted' }}>
          mean {fmtNum(st.mean)} · n {fmtInt(st.count)}
        </Text>
      </Box>
      <Box className="histogram" role="img" aria-label={`Histogram of ${name} from ${fmtNum(st.min)} to ${fmtNum(st.max)}`} sx={{ display: 'flex', alignItems: 'flex-end', gap: '2px', height: 48, mt: 1 }}>
        {bins.map((b, i) => (
          <Box
            key={i}
            as="button"
            type="button"
            title={`${fmtNum(b.from)} – ${fmtNum(b.to)}: ${fmtInt(b.count)}`}
            aria-label={`${fmtNum(b.from)} to ${fmtNum(b.to)}: ${b.count} records; filter to this range`}
            data-testid="hist-bar"
            data-count={b.count}
            onClick={() => onRange({ min: b.from, max: b.to })}
            sx={{ flex: 1, height: `${heights[i]}%`, minHeight: b.count ? 2 : 0, bg: 'accent.emphasis', border: 0, p: 0, cursor: 'pointer', borderRadius: '2px 2px 0 0' }}
          />
        ))}
      </Box>
      <Box sx={{ display: 'flex', fontSize: 0, color: 'fg.muted' }}>
        <Text sx={{ flex: 1 }}>{fmtNum(st.min)}</Text>
        <Text>{fmtNum(st.max)}</Text>
      </Box>
      <RangeInputs field={name} range={range} onRange={onRange} />
    </Box>
  );
}

interface Props {
  stats: RecordStats | null;
  ranges: Record<string, Range>;
  onRange: (field: string, r: Range) => void;
}

export function StatsPanel({ stats, ranges, onRange }: Props) {
  const names = Object.keys(stats?.fields || {});
  // A range on a field no matching record has any more still shows, so it
  // can be cleared.
  for (const f of Object.keys(ranges)) if (!names.includes(f)) names.push(f);
  if (!names.length) return null;
  return (
    <Box data-testid="stats-panel" sx={{ display: 'flex', gap: 2, flexWrap: 'wrap', mb: 3 }}>
      {names.map((n) => (
        <FieldCard key={n} name={n} st={stats?.fields[n] || { count: 0, min: NaN, max: NaN, mean: NaN, histogram: [] }} range={ranges[n] || {}} onRange={(r) => onRange(n, r)} />
      ))}
    </Box>
  );
}
