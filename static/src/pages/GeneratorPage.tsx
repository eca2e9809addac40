import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link as RouterLink, useSearchParams } from 'react-router-dom';
import { Box, Button, Flash, FormControl, Label, ProgressBar, Select, Spinner, Text, useConfirm } from '@primer/react';
import { AlertIcon, CheckIcon, RocketIcon, SyncIcon, UploadIcon, XIcon } from '@primer/octicons-react';
import { api, ApiError, uuid4 } from '../api';
import type { Failure, Health, Job, Json, Pipeline, SeedValidation } from '../types';
import { ErrorFlash, PageTitle, TraceView, errorText } from '../components/common';
import { elapsedSeconds, fmtDuration, fmtInt, fmtTime, humanize, pipelineLabel, shortId, throughput } from '../lib/format';

const ACTIVE = new Set(['queued', 'running']);
const MAX_UPLOAD = 10 * 1024 * 1024;

interface Picked {
  file: File;
  kind: 'json' | 'md';
  seeds?: Json; // parsed JSON seeds
  seedCount?: number;
  executions?: number;
  parseError?: string;
  words?: number;
}

// Reads a chosen file and checks what can be checked without the server:
// the JSON parses, it is an array of seeds or one seed, repetitions add up.
async function inspect(file: File): Promise<Picked> {
  const lower = file.name.toLowerCase();
  const kind: 'json' | 'md' = lower.endsWith('.md') || lower.endsWith('.markdown') ? 'md' : 'json';
  if (file.size > MAX_UPLOAD) return { file, kind, parseError: `The file is ${(file.size / 1048576).toFixed(1)} MiB; the upload limit is 10 MiB.` };
  const text = await file.text();
  if (kind === 'md') return { file, kind, words: text.split(/\s+/).filter(Boolean).length };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { file, kind, parseError: `The file is not valid JSON: ${(e as Error).message}` };
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  let executions = 0;
  for (let i = 0; i < list.length; i++) {
    const s = list[i] as { metadata?: unknown; repetitions?: unknown } | null;
    if (!s || typeof s !== 'object' || Array.isArray(s)) return { file, kind, parseError: `Seed ${i + 1} is not an object with "metadata".` };
    if (!s.metadata || typeof s.metadata !== 'object' || Array.isArray(s.metadata)) return { file, kind, parseError: `Seed ${i + 1} has no "metadata" object.` };
    const r = s.repetitions === undefined ? 1 : s.repetitions;
    if (typeof r !== 'number' || !Number.isInteger(r) || r < 1) return { file, kind, parseError: `Seed ${i + 1}: "repetitions" must be a whole number of at least 1.` };
    executions += r;
  }
  return { file, kind, seeds: parsed as Json, seedCount: list.length, executions };
}

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
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.failures(job.id).then(setList, setError);
  }, [job.id, job.records_failed]);
  const retry = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await api.retryFailed(job.id);
      onRetried(r.job_id);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
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

function JobCard({ job, pipelineName, now, onChanged, highlight }: { job: Job; pipelineName?: string; now: number; onChanged: (newJobId?: string) => void; highlight: boolean }) {
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
            {job.current_step !== null && job.current_step !== undefined ? ` (step ${job.current_step})` : ''}
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

export default function GeneratorPage() {
  const [params, setParams] = useSearchParams();
  const pipelineId = params.get('pipeline_id') || '';
  const [pipelines, setPipelines] = useState<Pipeline[] | null>(null);
  const [pipelineInfo, setPipelineInfo] = useState<Pipeline | null>(null);
  const [health, setHealth] = useState<Health | null>(null);
  const [healthError, setHealthError] = useState<unknown>(null);
  const [picked, setPicked] = useState<Picked | null>(null);
  const [dragOver, setDragOver] = useState(false);
  const [verify, setVerify] = useState<SeedValidation | null>(null);
  const [verifyError, setVerifyError] = useState<unknown>(null);
  const [startError, setStartError] = useState<unknown>(null);
  const [started, setStarted] = useState<string | null>(null);
  const [busy, setBusy] = useState<'verify' | 'start' | null>(null);
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [jobsError, setJobsError] = useState<unknown>(null);
  const [now, setNow] = useState(Date.now());
  const [jobLimit, setJobLimit] = useState(25);
  const idemKey = useRef(uuid4());
  const fileInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    document.title = 'Generator · dgen';
    api.pipelines().then(setPipelines, (e) => {
      setPipelines([]);
      setStartError(e);
    });
  }, []);

  useEffect(() => {
    setPipelineInfo(null);
    if (pipelineId) api.pipeline(pipelineId).then(setPipelineInfo, () => setPipelineInfo(null));
  }, [pipelineId]);

  // The runner's heartbeat: warn when nothing will pick up queued jobs.
  useEffect(() => {
    let stop = false;
    const tick = () =>
      api.health().then(
        (h) => {
          if (!stop) {
            setHealth(h);
            setHealthError(null);
          }
        },
        (e) => !stop && setHealthError(e),
      );
    tick();
    const t = setInterval(tick, 5000);
    return () => {
      stop = true;
      clearInterval(t);
    };
  }, []);

  const loadJobs = useCallback(async () => {
    try {
      setJobs(await api.jobs({ limit: jobLimit }));
      setJobsError(null);
    } catch (e) {
      setJobsError(e);
    }
  }, [jobLimit]);

  const anyActive = !!jobs && jobs.some((j) => ACTIVE.has(j.status));
  // Live progress: poll every second while a job is queued or running.
  useEffect(() => {
    loadJobs();
    const t = setInterval(() => {
      loadJobs();
      setNow(Date.now());
    }, anyActive ? 1000 : 5000);
    return () => clearInterval(t);
  }, [loadJobs, anyActive]);

  const names = useMemo(() => new Map((pipelines || []).map((p) => [p.id, p.name])), [pipelines]);

  const choose = async (f: File | undefined | null) => {
    setVerify(null);
    setVerifyError(null);
    setStartError(null);
    setStarted(null);
    idemKey.current = uuid4();
    if (!f) {
      setPicked(null);
      return;
    }
    setPicked(await inspect(f));
  };

  const setPipeline = (id: string) => {
    const next = new URLSearchParams(params);
    if (id) next.set('pipeline_id', id);
    else next.delete('pipeline_id');
    setParams(next, { replace: true });
    setVerify(null);
    setStartError(null);
    idemKey.current = uuid4();
  };

  const doVerify = async () => {
    if (!picked?.seeds || !pipelineId) return;
    setBusy('verify');
    setVerify(null);
    setVerifyError(null);
    try {
      setVerify(await api.validateSeeds(pipelineId, picked.seeds));
    } catch (e) {
      setVerifyError(e);
    } finally {
      setBusy(null);
    }
  };

  const start = async () => {
    if (!picked || !pipelineId) return;
    setBusy('start');
    setStartError(null);
    setStarted(null);
    try {
      const r = await api.generate(pipelineId, picked.file, idemKey.current);
      setStarted(r.job_id);
      idemKey.current = uuid4();
      await loadJobs();
    } catch (e) {
      setStartError(e);
    } finally {
      setBusy(null);
    }
  };

  const runnerDown = health?.runner && health.runner.alive === false;
  const isMultiplier = pipelineInfo?.first_block_is_multiplier;
  const seedIndex = startError instanceof ApiError ? startError.detail?.seed_index : undefined;

  return (
    <Box sx={{ p: 4, maxWidth: 1200, width: '100%', mx: 'auto' }} data-testid="generator-page">
      <PageTitle>Generator</PageTitle>
      {runnerDown ? (
        <Flash variant="warning" sx={{ mb: 3 }} data-testid="runner-down-banner" role="alert">
          <AlertIcon /> <b>The job runner is not running.</b> Jobs will wait in the queue until dgen-runner is started
          {health?.runner?.last_seen ? ` (last seen ${fmtTime(health.runner.last_seen)})` : ''}.
        </Flash>
      ) : null}
      {healthError && !(healthError instanceof ApiError && healthError.status === 0) ? (
        <Flash variant="danger" sx={{ mb: 3 }} data-testid="health-error">
          Cannot reach the server: {errorText(healthError)}
        </Flash>
      ) : null}

      <Box as="section" aria-labelledby="new-job-h" sx={{ border: '1px solid', borderColor: 'border.default', borderRadius: 2, p: 3, mb: 4 }}>
        <Box as="h2" id="new-job-h" sx={{ fontSize: 2, mt: 0 }}>
          New generation job
        </Box>
        <Box sx={{ display: 'grid', gridTemplateColumns: ['1fr', '1fr', '1fr 1fr'], gap: 3 }}>
          <FormControl>
            <FormControl.Label>Pipeline</FormControl.Label>
            <Select value={pipelineId} onChange={(e) => setPipeline(e.target.value)} data-testid="gen-pipeline" block>
              <Select.Option value="">Choose a pipeline…</Select.Option>
              {(pipelines || []).map((p) => (
                <Select.Option key={p.id} value={p.id}>
                  {pipelineLabel(p)}
                </Select.Option>
              ))}
            </Select>
            {pipelines && pipelines.length === 0 ? (
              <FormControl.Caption>
                No pipelines yet: <RouterLink to="/pipelines">create one</RouterLink>.
              </FormControl.Caption>
            ) : null}
            {pipelineInfo ? (
              <FormControl.Caption>
                {pipelineInfo.definition.blocks.map((b) => b.type).join(' → ')}
                {isMultiplier ? ' · expects a markdown file' : ''}
              </FormControl.Caption>
            ) : null}
          </FormControl>
          <Box
            className={`dropzone${dragOver ? ' active' : ''}`}
            data-testid="seed-dropzone"
            onDragOver={(e: React.DragEvent) => {
              e.preventDefault();
              setDragOver(true);
            }}
            onDragLeave={() => setDragOver(false)}
            onDrop={(e: React.DragEvent) => {
              e.preventDefault();
              setDragOver(false);
              // The dropped file replaces whatever the file input held.
              if (fileInput.current) fileInput.current.value = '';
              choose(e.dataTransfer.files?.[0]);
            }}
          >
            <UploadIcon size={24} />
            <Text as="div" sx={{ mt: 1 }}>
              Drop a seed file here (.json seeds or .md document), or{' '}
            </Text>
            <input
              ref={fileInput}
              id="seed-file"
              type="file"
              accept=".json,.md,.markdown,application/json,text/markdown"
              onChange={(e) => choose(e.target.files?.[0])}
              data-testid="seed-file-input"
              aria-label="Seed file"
              style={{ marginTop: 8 }}
            />
          </Box>
        </Box>

        {picked ? (
          <Box sx={{ mt: 3 }} data-testid="seed-file-summary">
            <Text sx={{ fontWeight: 'bold' }}>{picked.file.name}</Text>{' '}
            <Text sx={{ color: 'fg.muted' }}>({(picked.file.size / 1024).toFixed(1)} KiB)</Text>
            {picked.parseError ? (
              <Flash variant="danger" sx={{ mt: 2 }} data-testid="seed-file-error" role="alert">
                {picked.parseError}
              </Flash>
            ) : picked.kind === 'json' ? (
              <Text as="div" data-testid="seed-file-info">
                {fmtInt(picked.seedCount)} seed(s), {fmtInt(picked.executions)} execution(s)
              </Text>
            ) : (
              <Text as="div" data-testid="seed-file-info">
                Markdown document, {fmtInt(picked.words)} words: split into chunks by the pipeline&apos;s first block.
              </Text>
            )}
            {picked.kind === 'md' && pipelineInfo && !isMultiplier ? (
              <Flash variant="warning" sx={{ mt: 2 }}>
                This pipeline does not start with a multiplier block; a markdown file becomes a single seed with a file_content field.
              </Flash>
            ) : null}
            {picked.kind === 'json' && pipelineInfo && isMultiplier ? (
              <Flash variant="warning" sx={{ mt: 2 }}>
                This pipeline starts with a multiplier and usually takes a markdown file.
              </Flash>
            ) : null}
          </Box>
        ) : null}

        <Box sx={{ display: 'flex', gap: 2, mt: 3, flexWrap: 'wrap' }}>
          <Button
            leadingVisual={CheckIcon}
            onClick={doVerify}
            disabled={!pipelineId || !picked || !!picked.parseError || picked.kind !== 'json' || busy !== null}
            data-testid="verify-seeds"
          >
            {busy === 'verify' ? 'Verifying…' : 'Verify seeds'}
          </Button>
          <Button
            variant="primary"
            leadingVisual={RocketIcon}
            onClick={start}
            disabled={!pipelineId || !picked || !!picked.parseError || busy !== null}
            data-testid="start-generation"
          >
            {busy === 'start' ? 'Starting…' : 'Start generation'}
          </Button>
        </Box>
        {verify ? (
          <Flash variant={verify.valid ? (verify.warnings.length ? 'warning' : 'success') : 'danger'} sx={{ mt: 3 }} data-testid="verify-result" data-valid={String(verify.valid)}>
            <Text sx={{ fontWeight: 'bold' }}>
              {verify.valid ? (verify.warnings.length ? 'Seeds are valid, with warnings' : 'Seeds are valid') : 'Seeds are not valid'}
            </Text>
            {[...verify.errors.map((m) => ['error', m] as const), ...verify.warnings.map((m) => ['warning', m] as const)].length ? (
              <Box as="ul" sx={{ m: 0, pl: 3 }}>
                {verify.errors.map((m, i) => (
                  <li key={`e${i}`} data-testid="verify-error">
                    {typeof m === 'string' ? humanize(m) : JSON.stringify(m)}
                  </li>
                ))}
                {verify.warnings.map((m, i) => (
                  <li key={`w${i}`} data-testid="verify-warning">
                    {typeof m === 'string' ? humanize(m) : JSON.stringify(m)}
                  </li>
                ))}
              </Box>
            ) : null}
          </Flash>
        ) : null}
        <ErrorFlash error={verifyError} testid="verify-error-banner" />
        {startError ? (
          <Box>
            <ErrorFlash error={startError} testid="generate-error" />
            {typeof seedIndex === 'number' ? (
              <Text sx={{ color: 'danger.fg' }} data-testid="generate-error-seed">
                Check seed {seedIndex + 1} (counted from 1) in your file.
              </Text>
            ) : null}
          </Box>
        ) : null}
        {started ? (
          <Flash variant="success" sx={{ mt: 3 }} data-testid="job-started">
            Job {shortId(started)} started. Its progress shows below.
          </Flash>
        ) : null}
      </Box>

      <Box as="section" aria-labelledby="jobs-h">
        <Box sx={{ display: 'flex', alignItems: 'center', gap: 2 }}>
          <Box as="h2" id="jobs-h" sx={{ fontSize: 2, flex: 1 }}>
            Jobs
          </Box>
          <Button size="small" leadingVisual={SyncIcon} onClick={loadJobs} aria-label="Refresh jobs">
            Refresh
          </Button>
        </Box>
        <ErrorFlash error={jobsError} testid="jobs-error" />
        {jobs === null ? <Spinner size="small" /> : null}
        {jobs && jobs.length === 0 ? <Text sx={{ color: 'fg.muted' }} data-testid="no-jobs">No jobs yet.</Text> : null}
        <Box sx={{ display: 'flex', flexDirection: 'column', gap: 2 }} data-testid="job-list">
          {(jobs || []).map((j) => (
            <JobCard
              key={j.id}
              job={j}
              pipelineName={names.get(j.pipeline_id)}
              now={now}
              highlight={j.id === started}
              onChanged={(newId) => {
                if (newId) setStarted(newId);
                loadJobs();
              }}
            />
          ))}
        </Box>
        {jobs && jobs.length >= jobLimit ? (
          <Box sx={{ mt: 2, textAlign: 'center' }}>
            <Button onClick={() => setJobLimit((l) => l + 25)} data-testid="more-jobs">
              Show older jobs
            </Button>
          </Box>
        ) : null}
      </Box>
    </Box>
  );
}
