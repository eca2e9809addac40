import React from 'react';
import { Box, Flash, Label, Text } from '@primer/react';
import { ApiError } from '../api';
import type { TraceEntry } from '../types';
import { fmtDuration, humanize } from '../lib/format';

export function JsonBlock({ value, testid, label }: { value: unknown; testid?: string; label?: string }) {
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return (
    <pre className="json" data-testid={testid} aria-label={label}>
      {text === undefined ? 'undefined' : text}
    </pre>
  );
}

// The sentence to show for a failed request, counting blocks and seeds
// from 1 (the detail below keeps the server's 0-based field paths).
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return humanize(e.message);
  if (e instanceof Error) return humanize(e.message);
  return humanize(String(e));
}

// A red banner for a failed request; shows the server's detail (field,
// allowed values, seed index) below the sentence.
export function ErrorFlash({ error, testid = 'error', onDismiss }: { error: unknown; testid?: string; onDismiss?: () => void }) {
  if (!error) return null;
  const detail = error instanceof ApiError ? error.detail : null;
  const hasDetail = detail && Object.keys(detail).length > 0;
  return (
    <Flash variant="danger" data-testid={testid} sx={{ my: 2 }} role="alert">
      <Box sx={{ display: 'flex', alignItems: 'flex-start', gap: 2 }}>
        <Box sx={{ flex: 1 }}>
          <Text sx={{ fontWeight: 'bold' }} data-testid={`${testid}-message`}>{errorText(error)}</Text>
          {hasDetail ? (
            <details>
              <summary>Details</summary>
              <JsonBlock value={detail} />
            </details>
          ) : null}
        </Box>
        {onDismiss ? (
          <button type="button" onClick={onDismiss} aria-label="Dismiss" style={{ background: 'none', border: 0, color: 'inherit', cursor: 'pointer' }}>
            ×
          </button>
        ) : null}
      </Box>
    </Flash>
  );
}

// The execution trace: one collapsible entry per block with its input,
// output, the accumulated state after it, and how long it took.
// `stacked` puts input, output and state under each other (narrow panels
// such as the builder's try-it); otherwise they sit side by side when the
// page is wide enough.
export function TraceView({ trace, testid = 'trace', stacked = false }: { trace?: TraceEntry[] | null; testid?: string; stacked?: boolean }) {
  if (!trace || trace.length === 0) {
    return <Text sx={{ color: 'fg.muted' }} data-testid={testid}>No trace recorded.</Text>;
  }
  return (
    <Box data-testid={testid} sx={{ display: 'flex', flexDirection: 'column', gap: 2 }}>
      {trace.map((t, i) => (
        <Box
          key={i}
          data-testid="trace-entry"
          sx={{ border: '1px solid', borderColor: t.error ? 'danger.emphasis' : 'border.default', borderRadius: 2, p: 2 }}
        >
          <details open={trace.length <= 3}>
            <summary style={{ cursor: 'pointer' }}>
              <Text sx={{ fontWeight: 'bold' }}>
                {i + 1}. {t.block_type}
              </Text>{' '}
              <Label variant="secondary" data-testid="trace-time">
                {typeof t.execution_time === 'number' ? fmtDuration(t.execution_time) : '–'}
              </Label>
              {t.error ? (
                <Label variant="danger" sx={{ ml: 1 }}>
                  error
                </Label>
              ) : null}
            </summary>
            {t.error ? <Flash variant="danger" sx={{ my: 2 }}>{humanize(t.error)}</Flash> : null}
            <Box sx={{ display: 'grid', gridTemplateColumns: stacked ? '1fr' : ['1fr', '1fr', '1fr 1fr 1fr'], gap: 2, mt: 2 }}>
              <Box>
                <Text sx={{ fontSize: 0, color: 'fg.muted' }}>Input</Text>
                <JsonBlock value={t.input ?? null} testid="trace-input" />
              </Box>
              <Box>
                <Text sx={{ fontSize: 0, color: 'fg.muted' }}>Output</Text>
                <JsonBlock value={t.output ?? null} testid="trace-output" />
              </Box>
              <Box>
                <Text sx={{ fontSize: 0, color: 'fg.muted' }}>Accumulated state</Text>
                <JsonBlock value={t.accumulated_state ?? null} testid="trace-state" />
              </Box>
            </Box>
          </details>
        </Box>
      ))}
    </Box>
  );
}

export function PageTitle({ children, actions }: { children: React.ReactNode; actions?: React.ReactNode }) {
  return (
    <Box sx={{ display: 'flex', alignItems: 'center', gap: 2, mb: 3, flexWrap: 'wrap' }}>
      <Box as="h1" sx={{ fontSize: 4, m: 0, flex: 1 }}>
        {children}
      </Box>
      {actions}
    </Box>
  );
}
