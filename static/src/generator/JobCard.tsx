// A job of the generator page: progress, counts, cancel, its failures and
// "retry failed".
import { useEffect, useState } from 'react';
import { Link as RouterLink } from 'react-router-dom';
import { Box, Button, Flash, Label, ProgressBar, Spinner, Text, useConfirm } from '@primer/react';
import { ClockIcon, SyncIcon, XIcon } from '@primer/octicons-react';
import { api, ApiError } from '../api';
import type { Failure, Job } from '../types';
import { ErrorFlash, TraceView } from '../components/common';
import { useAction } from '../hooks/useAction';
import { fmtCost, isCost, stepText } from '../lib/models';
import { elapsedSeconds, fmtDuration, fmtInt, fmtTime, humanize, shortId, throughput } from '../lib/format';

export const ACTIVE = new Set(['queued', 'running']);

function statusVariant(s: string): 'accent' | 'success' | 'danger' | 'attention' | 'secondary' | 'done' {
  switch (s) {
    case 'running':
      return 'accent';
    case 'completed':
      return 'success';
    case 'failed':
      return 'danger';
    case 'stopped':
      return 'attention';
    case 'cancelled':
      return 'secondary';
    case 'queued':
      return 'secondary';
    default:
      return 'secondary';
  }
}

function Failures({ job, onRetried }: { job: Job; onRetried: (id: string) => void }) {
  const [list, setList] = useState<Failure[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const retryAction = useAction();
  useEffect(() => {
    api.failures(job.id).then(setList, setLoadError);
  }, [job.id, job.records_failed]);
  const retry = async () => {
    const r = await retryAction.run(() => api.retryFailed(job.id));
    if (r) onRetried(r.job_id);
  };
  const error = loadError || retryAction.error;
  const busy = retryAction.busy;
  return (
    <Box data-testid="job-failures" sx={{ mt: 2, borderTop: '1px solid', borderColor: 'border.default', pt: 2 }}>
      <ErrorFlash error={error} testid="failures-error" />
      {list === null && !error ? <Spinner size="small" /> : null}
      {list && list.length === 0 ? <Text sx={{ color: 'fg.muted' }}>No failed executions.</Text> : null}
      {list && list.length > 0 ? (
        <>
          <Box sx={{ display: 'flex', alignItems: 'center', gap: 2, mb: 2 }}>
            <Text sx={{ fontWeight: 'bold' }}>{list.length} failed execution(s)</Text>
            <Button size="small" leadingVisual={SyncIcon} onClick={retry} disabled={busy || ACTIVE.has(job.status)} data-testid="retry-failed">
              {busy ? 'Retrying…' : 'Retry failed'}
            </Button>
          </Box>
          <Box as="ul" sx={{ listStyle: 'none', p: 0, m: 0, display: 'flex', flexDirection: 'column', gap: 2 }}>
            {list.map((f, i) => (
              <Box as="li" key={i} data-testid="failure-item" sx={{ border: '1px solid', borderColor: 'danger.muted', borderRadius: 2, p: 2 }}>
                <Text as="div" sx={{ fontSize: 0, color: 'fg.muted' }}>
                  seed {f.seed_index + 1}, repetition {f.repetition + 1}
                  {f.block_type ? ` · ${f.block_type}` : ''}
                  {f.step !== undefined && f.step !== null ? ` (step ${f.step})` : ''}
                </Text>
                <Text as="div" sx={{ color: 'danger.fg', wordBreak: 'break-word' }} data-testid="failure-error">
                  {humanize(f.error)}
                </Text>
                {f.trace && f.trace.length ? (
                  <details>
                    <summary>Trace up to the failure</summary>
                    <TraceView trace={f.trace} testid="failure-trace" />
                  </details>
                ) : null}
              </Box>
            ))}
          </Box>
        </>
      ) : null}
    </Box>
  );
}

export function JobCard({ job, pipelineName, now, onChanged, highlight }: { job: Job; pipelineName?: string; now: number; onChanged: (newJobId?: string) => void; highlight: boolean }) {
  const [showFailures, setShowFailures] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const confirm = useConfirm();
  const active = ACTIVE.has(job.status);
  const pct = Math.round(Math.max(0, Math.min(1, job.progress || (job.total_seeds ? job.current_seed / job.total_seeds : 0))) * 100);
  // A job that ended without a completion time (cancelled before the
  // runner noticed) must not keep counting up.
  const ended = !active && !job.completed_at;
  const el = ended ? null : elapsedSeconds(job.started_at, job.completed_at, now);
  const pace = active && job.status === 'running' ? throughput(job.current_seed, job.total_seeds, el) : null;
  const u = job.usage || {};
  const step = stepText(job.current_step);
  const cancel = async () => {
    const ok = await confirm({ title: 'Cancel job?', content: 'Executions already finished keep their records.', confirmButtonContent: 'Cancel job', cancelButtonContent: 'Keep running', confirmButtonType: 'danger' });
    if (!ok) return;
    setError(null);
    setNotice(null);
    try {
      await api.cancelJob(job.id);
      onChanged();
    } catch (e) {
      // The job may have finished (or been cancelled elsewhere) while the
      // question was open: that is news, not a failure.
      if (e instanceof ApiError && (e.status === 409 || e.status === 404)) {
        setNotice(`Nothing to cancel: ${humanize(e.message)}`);
        onChanged();
      } else {
        setError(e);
      }
    }
  };
  return (
    <Box
      data-testid="job-card"
      data-job-id={job.id}
      data-status={job.status}
      sx={{ border: '1px solid', borderColor: highlight ? 'accent.emphasis' : 'border.default', borderRadius: 2, p: 3, bg: 'canvas.subtle' }}
    >
      <Box sx={{ display: 'flex', alignItems: 'center', gap: 2, flexWrap: 'wrap' }}>
        <Label variant={statusVariant(job.status)} data-testid="job-status">
          {job.status}
        </Label>
        <RouterLink to={`/pipelines/${encodeURIComponent(job.pipeline_id)}/edit`} data-testid="job-pipeline-link" title="Open the pipeline">
          <Text sx={{ fontWeight: 'bold' }}>
            {pipelineName || 'pipeline'} · #{job.pipeline_id}
          </Text>
        </RouterLink>
        <Text sx={{ color: 'fg.muted', fontSize: 0 }} title={job.id}>
          job {shortId(job.id)} · created {fmtTime(job.created_at)}
        </Text>
        <Box sx={{ flex: 1 }} />
        {active ? (
          <Button size="small" variant="danger" leadingVisual={XIcon} onClick={cancel} data-testid="job-cancel">
            Cancel
          </Button>
        ) : null}
        {job.records_failed > 0 ? (
          <Button size="small" onClick={() => setShowFailures((s) => !s)} data-testid="job-failures-toggle" aria-expanded={showFailures}>
            {showFailures ? 'Hide failures' : `Failures (${job.records_failed})`}
          </Button>
        ) : null}
        {job.records_generated > 0 ? (
          <Button as={RouterLink} size="small" to={`/review?pipeline_id=${encodeURIComponent(job.pipeline_id)}&job_id=${encodeURIComponent(job.id)}`} data-testid="job-review-link">
            Review records
          </Button>
        ) : null}
      </Box>
      <ProgressBar
        progress={pct}
        sx={{ my: 2 }}
        aria-label={`Progress ${pct}%`}
        aria-valuenow={pct}
        aria-valuemin={0}
        aria-valuemax={100}
        data-testid="job-progress"
        data-tone={active ? 'active' : job.status}
        bg={job.status === 'failed' ? 'danger.emphasis' : job.status === 'completed' ? 'success.emphasis' : active ? 'accent.emphasis' : 'neutral.emphasis'}
      />
      <Box sx={{ display: 'flex', gap: 3, flexWrap: 'wrap', fontSize: 1 }}>
        <Text data-testid="job-counts">
          {fmtInt(job.current_seed)} / {fmtInt(job.total_seeds)} executions ({pct}%)
        </Text>
        <Text data-testid="job-records">
          <Text sx={{ color: 'success.fg' }}>{fmtInt(job.records_generated)} records</Text>
          {' · '}
          <Text sx={{ color: job.records_failed ? 'danger.fg' : 'fg.muted' }}>{fmtInt(job.records_failed)} failed</Text>
        </Text>
        {active && job.current_block ? (
          <Text data-testid="job-current">
            now: {job.current_block}
            {step && !step.waiting ? ` (${step.text})` : ''}
          </Text>
        ) : null}
        {active && step && (step.waiting || !job.current_block) ? (
          // What the runner waits for ("rate limited, retrying in 4s"):
          // in the attention colour, so a slow job explains itself.
          <Text
            data-testid="job-step"
            data-waiting={String(step.waiting)}
            sx={{ color: step.waiting ? 'attention.fg' : 'fg.default', fontWeight: step.waiting ? 'bold' : 'normal' }}
            role={step.waiting ? 'status' : undefined}
          >
            {step.waiting ? <ClockIcon size={14} /> : null} {step.text}
          </Text>
        ) : null}
        <Text data-testid="job-elapsed">{ended ? `${job.status}, not running` : `elapsed ${el === null ? '–' : fmtDuration(el)}`}</Text>
        {pace && pace.perSecond !== null ? (
          <Text data-testid="job-rate" sx={{ color: 'fg.muted' }}>
            {pace.perSecond >= 10 ? fmtInt(pace.perSecond) : pace.perSecond.toFixed(1)} executions/s
            {pace.etaSeconds !== null ? ` · about ${fmtDuration(pace.etaSeconds)} left` : ''}
          </Text>
        ) : null}
        <Text data-testid="job-tokens" sx={{ color: 'fg.muted' }}>
          {fmtInt(u.total_tokens)} tokens (in {fmtInt(u.total_input_tokens)}, out {fmtInt(u.total_output_tokens)}, cached {fmtInt(u.total_cached_tokens)})
        </Text>
        {u.cost === undefined ? null : (
          <Text data-testid="job-cost" sx={{ color: u.cost ? 'fg.default' : 'fg.muted' }} title="From the prices of the models the job used">
            {isCost(u.cost) ? `cost ${fmtCost(u.cost)}` : 'cost unknown'}
          </Text>
        )}
      </Box>
      {job.error ? (
        <Flash variant={job.status === 'stopped' ? 'warning' : 'danger'} sx={{ mt: 2 }} data-testid="job-error">
          {job.error}
        </Flash>
      ) : null}
      <ErrorFlash error={error} testid="job-action-error" onDismiss={() => setError(null)} />
      {notice ? (
        <Flash sx={{ mt: 2, py: 2, display: 'flex', alignItems: 'center', gap: 2 }} data-testid="job-action-notice">
          <Text sx={{ flex: 1 }}>{notice}</Text>
          <Button size="small" variant="invisible" onClick={() => setNotice(null)} aria-label="Dismiss" data-testid="job-action-notice-dismiss">
            Dismiss
          </Button>
        </Flash>
      ) : null}
      {showFailures ? <Failures job={job} onRetried={(id) => onChanged(id)} /> : null}
    </Box>
  );
}

