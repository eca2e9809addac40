import { useState } from 'react';
import { Box, Button, Flash, Label, Select, Text, Textarea } from '@primer/react';
import { PlayIcon } from '@primer/octicons-react';
import { api } from '../api';
import type { ExecuteOne, ExecuteResponse, Json, TemplateInfo } from '../types';
import { exampleInput } from './model';
import { ErrorFlash, JsonBlock, TraceView } from '../components/common';

function OneResult({ r, label }: { r: ExecuteOne; label?: string }) {
  const u = r.usage || {};
  return (
    <Box sx={{ display: 'flex', flexDirection: 'column', gap: 2 }}>
      {label ? <Text sx={{ fontWeight: 'bold' }}>{label}</Text> : null}
      <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }}>
        <Label variant="secondary">in {u.input_tokens ?? 0} tok</Label>
        <Label variant="secondary">out {u.output_tokens ?? 0} tok</Label>
        {u.cached_tokens ? <Label variant="secondary">cached {u.cached_tokens}</Label> : null}
      </Box>
      <Text sx={{ fontSize: 0, color: 'fg.muted' }}>Result (final state)</Text>
      <JsonBlock value={r.result} testid="tryit-result" />
      <Text sx={{ fontSize: 0, color: 'fg.muted' }}>Trace</Text>
      <TraceView trace={r.trace} testid="tryit-trace" stacked />
    </Box>
  );
}

// Runs one seed through the saved pipeline (nothing is stored) and shows
// the final state and the per-block trace, or the block error.
export function TryIt({
  pipelineId,
  dirty,
  input,
  setInput,
  templates = [],
}: {
  pipelineId?: string;
  dirty: boolean;
  input: string;
  setInput: (s: string) => void;
  templates?: TemplateInfo[];
}) {
  const examples = templates.map((t) => ({ t, text: exampleInput(t) })).filter((x): x is { t: TemplateInfo; text: string } => !!x.text);
  const [busy, setBusy] = useState(false);
  const [res, setRes] = useState<ExecuteResponse | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [parseError, setParseError] = useState<string | null>(null);

  const run = async () => {
    if (!pipelineId) return;
    let state: Json;
    try {
      state = JSON.parse(input) as Json;
    } catch (e) {
      setParseError(`The seed metadata is not valid JSON: ${(e as Error).message}`);
      return;
    }
    if (state === null || typeof state !== 'object' || Array.isArray(state)) {
      setParseError('The seed metadata must be a JSON object, e.g. {"content": "..."}');
      return;
    }
    setParseError(null);
    setError(null);
    setRes(null);
    setBusy(true);
    try {
      setRes(await api.execute(pipelineId, state));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Box data-testid="tryit-panel" sx={{ display: 'flex', flexDirection: 'column', gap: 2 }}>
      <Text as="label" htmlFor="tryit-input" sx={{ fontWeight: 'bold' }}>
        Seed metadata (JSON)
      </Text>
      {examples.length ? (
        <Box sx={{ display: 'flex', gap: 2, alignItems: 'center' }}>
          <Text as="label" htmlFor="tryit-example" sx={{ fontSize: 0, color: 'fg.muted' }}>
            Start from
          </Text>
          <Select
            id="tryit-example"
            value=""
            onChange={(e) => {
              const ex = examples.find((x) => x.t.id === e.target.value);
              if (ex) setInput(ex.text);
            }}
            data-testid="tryit-example"
            size="small"
          >
            <Select.Option value="">an example seed…</Select.Option>
            {examples.map(({ t }) => (
              <Select.Option key={t.id} value={t.id}>
                {t.name}
              </Select.Option>
            ))}
          </Select>
        </Box>
      ) : null}
      <Textarea
        id="tryit-input"
        className="mono"
        rows={8}
        spellCheck={false}
        value={input}
        onChange={(e) => setInput(e.target.value)}
        data-testid="tryit-input"
        block
        resize="vertical"
      />
      {!pipelineId ? <Flash variant="warning">Save the pipeline first to try it.</Flash> : null}
      {pipelineId && dirty ? (
        <Flash variant="warning" data-testid="tryit-dirty">
          You have unsaved changes: the run uses the saved version.
        </Flash>
      ) : null}
      <Box>
        <Button leadingVisual={PlayIcon} variant="primary" onClick={run} disabled={!pipelineId || busy} data-testid="tryit-run">
          {busy ? 'Running…' : 'Run'}
        </Button>
      </Box>
      {parseError ? <Flash variant="danger" data-testid="tryit-error">{parseError}</Flash> : null}
      <ErrorFlash error={error} testid="tryit-error" />
      {res ? (
        res.results ? (
          <Box sx={{ display: 'flex', flexDirection: 'column', gap: 3 }}>
            <Text>{res.results.length} chunk(s)</Text>
            {res.results.map((r, i) => (
              <OneResult key={i} r={r} label={`Chunk ${i + 1}`} />
            ))}
          </Box>
        ) : (
          <OneResult r={res as ExecuteOne} />
        )
      ) : null}
    </Box>
  );
}
