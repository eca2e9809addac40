import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link as RouterLink, useSearchParams } from 'react-router-dom';
import { Box, Button, Flash, FormControl, Select, Spinner, Text } from '@primer/react';
import { AlertIcon, CheckIcon, RocketIcon, SyncIcon, UploadIcon } from '@primer/octicons-react';
import { api, ApiError, uuid4 } from '../api';
import type { Job, Pipeline, SeedValidation } from '../types';
import { ErrorFlash, PageTitle, errorText } from '../components/common';
import { fmtInt, fmtTime, humanize, pipelineLabel, shortId } from '../lib/format';
import { ACTIVE, JobCard } from '../generator/JobCard';
import { inspect, mib, type Picked } from '../generator/seedFile';
import { useHealth } from '../hooks/useHealth';
import { estimateText } from '../lib/models';

export default function GeneratorPage() {
  const [params, setParams] = useSearchParams();
  const pipelineId = params.get('pipeline_id') || '';
  const [pipelines, setPipelines] = useState<Pipeline[] | null>(null);
  const [pipelineInfo, setPipelineInfo] = useState<Pipeline | null>(null);
  const { health, error: healthError, maxUpload } = useHealth();
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
    setPicked(await inspect(f, maxUpload));
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
              Drop a seed file here (.json seeds or .md document, up to {mib(maxUpload)}), or{' '}
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
        {verify?.estimate && estimateText(verify.estimate) ? (
          <Text as="div" sx={{ mt: 2, fontWeight: 'bold' }} data-testid="seed-estimate" title="The most this file may use: every LLM call at its max_tokens">
            {estimateText(verify.estimate)}
          </Text>
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
