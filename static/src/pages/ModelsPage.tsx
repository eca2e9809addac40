import { useCallback, useEffect, useState } from 'react';
import { Box, Button, Checkbox, FormControl, Label, Select, Spinner, Text, TextInput, useConfirm } from '@primer/react';
import { Dialog } from '@primer/react/drafts';
import { BeakerIcon, PencilIcon, PlusIcon, StarIcon, TrashIcon } from '@primer/octicons-react';
import { api, ApiError } from '../api';
import type { ModelKind, ModelTestResult, SavedModel } from '../types';
import { ErrorFlash, PageTitle, errorText } from '../components/common';
import { useAction } from '../hooks/useAction';
import { useAuth } from '../auth/AuthProvider';
import {
  PROVIDER_LABEL, bodyOf, canEdit, emptyForm, endpointAfterProvider, formField, formOf, keyText, limitsText, presetModelName, priceText,
  providersFor, type FormErrors, type ModelForm,
} from '../lib/models';

const KIND_TITLE: Record<ModelKind, string> = { llm: 'LLM models', embedding: 'Embedding models' };

// What a test call answered, in a few words.
function TestResult({ result, error }: { result: ModelTestResult | null; error: unknown }) {
  if (error) {
    return (
      <Text sx={{ color: 'danger.fg', fontSize: 0 }} data-testid="model-test-result" data-success="false">
        Test failed: {errorText(error)}
      </Text>
    );
  }
  if (!result) return null;
  return (
    <Text sx={{ color: result.success ? 'success.fg' : 'danger.fg', fontSize: 0 }} data-testid="model-test-result" data-success={String(result.success)}>
      {result.success ? `OK · ${result.latency_ms} ms` : `Failed: ${result.message}`}
      {result.success && result.message && result.message !== 'ok' ? ` · ${result.message}` : ''}
    </Text>
  );
}

// One field of the dialog, with the client's or the server's complaint
// about it below.
function Field({ label, name, error, caption, children, required }: {
  label: string; name: keyof ModelForm; error?: string; caption?: string; children: React.ReactNode; required?: boolean;
}) {
  return (
    <FormControl required={required}>
      <FormControl.Label>{label}</FormControl.Label>
      {children}
      {error ? (
        <FormControl.Validation variant="error">
          <span data-testid={`model-field-error-${name}`}>{error}</span>
        </FormControl.Validation>
      ) : caption ? <FormControl.Caption>{caption}</FormControl.Caption> : null}
    </FormControl>
  );
}

// The small fields of the dialog that sit side by side: name, label,
// test id, keyboard.
type SmallField = [keyof ModelForm, string, string, 'numeric' | 'decimal' | 'text'];
const LIMIT_FIELDS: SmallField[] = [
  ['max_in_flight', 'Max in flight', 'model-max-in-flight', 'numeric'],
  ['requests_per_minute', 'Requests / min', 'model-rpm', 'numeric'],
  ['tokens_per_minute', 'Tokens / min', 'model-tpm', 'numeric'],
];
const PRICE_FIELDS: SmallField[] = [
  ['price_input', 'Input', 'model-price-input', 'decimal'],
  ['price_output', 'Output', 'model-price-output', 'decimal'],
  ['price_cached', 'Cached input', 'model-price-cached', 'decimal'],
  ['currency', 'Currency', 'model-currency', 'text'],
];

function FieldGroup({ legend, note, fields, form, set, errorOf }: {
  legend: string;
  note: string;
  fields: SmallField[];
  form: ModelForm;
  set: (k: keyof ModelForm, v: string) => void;
  errorOf: (k: keyof ModelForm) => string | undefined;
}) {
  return (
    <Box as="fieldset" sx={{ border: '1px solid', borderColor: 'border.default', borderRadius: 2, p: 2, m: 0 }}>
      <Box as="legend" sx={{ px: 1, fontSize: 1, fontWeight: 'bold' }}>
        {legend} <Text sx={{ fontWeight: 'normal', color: 'fg.muted' }}>{note}</Text>
      </Box>
      <Box sx={{ display: 'grid', gridTemplateColumns: `repeat(${fields.length}, 1fr)`, gap: 2 }}>
        {fields.map(([k, label, testid, mode]) => (
          <Field key={k} label={label} name={k} error={errorOf(k)}>
            <TextInput block inputMode={mode} value={String(form[k])} onChange={(e) => set(k, e.target.value)} data-testid={testid} />
          </Field>
        ))}
      </Box>
    </Box>
  );
}

// Add or edit a model. `model` null adds one. The key field never shows
// the stored key: left empty, the stored key stays.
function ModelDialog({ kind, model, onClose }: { kind: ModelKind; model: SavedModel | null; onClose: (changed: boolean) => void }) {
  const [form, setForm] = useState<ModelForm>(() => (model ? formOf(model) : emptyForm(kind)));
  const [errors, setErrors] = useState<FormErrors>({});
  const save = useAction();
  const probe = useAction();
  const [tested, setTested] = useState<ModelTestResult | null>(null);
  const set = <K extends keyof ModelForm>(k: K, v: ModelForm[K]) => {
    setForm((f) => ({ ...f, [k]: v }));
    setErrors((e) => ({ ...e, [k]: undefined }));
  };
  const chooseProvider = (p: string) =>
    setForm((f) => ({ ...f, provider: p, endpoint: endpointAfterProvider(kind, f.endpoint, p) }));

  // A server complaint naming a field goes next to that field; anything
  // else stays at the top of the dialog.
  const serverError = save.error || probe.error;
  const serverField = serverError instanceof ApiError ? formField(serverError.field) : undefined;
  const errorOf = (k: keyof ModelForm) => errors[k] || (serverField === k ? errorText(serverError) : undefined);

  const checked = () => {
    const r = bodyOf(form, kind);
    if ('errors' in r) {
      setErrors(r.errors);
      return null;
    }
    setErrors({});
    return r.body;
  };
  const submit = async () => {
    const body = checked();
    if (!body) return;
    const done = await save.run(() => (model ? api.updateModel(kind, model.name, body) : api.createModel(kind, body)));
    if (done) onClose(true);
  };
  const test = async () => {
    const body = checked();
    if (!body) return;
    setTested(null);
    save.clear();
    const r = await probe.run(() => api.testModel(kind, body));
    if (r) setTested(r);
  };
  const keyPlaceholder = model?.api_key_set && !form.remove_key ? 'stored — leave empty to keep' : 'none';
  return (
    <Dialog
      title={model ? `Edit ${model.name}` : `Add ${kind === 'llm' ? 'an LLM' : 'an embedding'} model`}
      width="xlarge"
      onClose={() => onClose(false)}
      footerButtons={[
        { content: 'Cancel', onClick: () => onClose(false) },
        { buttonType: 'primary', content: save.busy ? 'Saving…' : 'Save', onClick: submit, disabled: save.busy, 'data-testid': 'model-save' } as never,
      ]}
    >
      <Box
        as="form"
        data-testid="model-dialog"
        onSubmit={(e: React.FormEvent) => {
          e.preventDefault();
          submit();
        }}
        sx={{ display: 'flex', flexDirection: 'column', gap: 3 }}
      >
        {serverError && !serverField ? <ErrorFlash error={serverError} testid="model-dialog-error" /> : null}
        <Box sx={{ display: 'grid', gridTemplateColumns: '1fr 1fr', gap: 3 }}>
          <Field label="Name" name="name" required error={errorOf('name')} caption="Blocks pick the model by this name.">
            <TextInput block value={form.name} onChange={(e) => set('name', e.target.value)} data-testid="model-name" autoComplete="off" />
          </Field>
          <Field label="Provider" name="provider" error={errorOf('provider')}>
            <Select block value={form.provider} onChange={(e) => chooseProvider(e.target.value)} data-testid="model-provider">
              {providersFor(kind).map((p) => (
                <Select.Option key={p} value={p}>
                  {PROVIDER_LABEL[p] || p}
                </Select.Option>
              ))}
            </Select>
          </Field>
        </Box>
        <Field label="Endpoint" name="endpoint" required error={errorOf('endpoint')} caption="The full URL; choosing a provider fills in its usual one.">
          <TextInput block value={form.endpoint} onChange={(e) => set('endpoint', e.target.value)} data-testid="model-endpoint" autoComplete="off" className="mono" />
        </Field>
        <Box sx={{ display: 'grid', gridTemplateColumns: kind === 'embedding' ? '2fr 1fr' : '1fr', gap: 3 }}>
          <Field label="Model" name="model_name" required error={errorOf('model_name')}>
            <TextInput
              block
              value={form.model_name}
              placeholder={presetModelName(kind, form.provider) ? `e.g. ${presetModelName(kind, form.provider)}` : ''}
              onChange={(e) => set('model_name', e.target.value)}
              data-testid="model-model-name"
              autoComplete="off"
            />
          </Field>
          {kind === 'embedding' ? (
            <Field label="Dimensions" name="dimensions" error={errorOf('dimensions')} caption="Empty: the provider's.">
              <TextInput block inputMode="numeric" value={form.dimensions} onChange={(e) => set('dimensions', e.target.value)} data-testid="model-dimensions" />
            </Field>
          ) : null}
        </Box>
        <Field
          label="API key"
          name="api_key"
          error={errorOf('api_key')}
          caption={model?.api_key_set ? `A key ending in ${model.api_key_last4 || '…'} is stored; it is never shown again.` : 'Stored sealed on the server; never shown again.'}
        >
          <TextInput
            block
            type="password"
            autoComplete="new-password"
            value={form.api_key}
            placeholder={keyPlaceholder}
            disabled={form.remove_key}
            onChange={(e) => set('api_key', e.target.value)}
            data-testid="model-api-key"
          />
        </Field>
        {model?.api_key_set ? (
          <FormControl>
            <Checkbox checked={form.remove_key} onChange={(e) => set('remove_key', e.target.checked)} data-testid="model-remove-key" />
            <FormControl.Label>Remove the stored key</FormControl.Label>
          </FormControl>
        ) : null}
        <FormControl>
          <Checkbox checked={form.is_default} onChange={(e) => set('is_default', e.target.checked)} data-testid="model-is-default" />
          <FormControl.Label>Default {kind === 'llm' ? 'LLM' : 'embedding'} model</FormControl.Label>
          <FormControl.Caption>Blocks without a model of their own use the default.</FormControl.Caption>
        </FormControl>
        <FieldGroup legend="Limits" note="(empty: none)" fields={LIMIT_FIELDS} form={form} set={set} errorOf={errorOf} />
        <FieldGroup legend="Price per million tokens" note="(empty: cost unknown)" fields={PRICE_FIELDS} form={form} set={set} errorOf={errorOf} />
        <Box sx={{ display: 'flex', alignItems: 'center', gap: 2 }}>
          <Button type="button" leadingVisual={BeakerIcon} onClick={test} disabled={probe.busy} data-testid="model-dialog-test">
            {probe.busy ? 'Testing…' : 'Test'}
          </Button>
          <TestResult result={tested} error={serverField ? null : probe.error} />
        </Box>
        {/* Enter in a field saves. */}
        <button type="submit" hidden />
      </Box>
    </Dialog>
  );
}

// One model in the list: what it is, its limits, price and key, and what
// the signed-in user may do with it.
function ModelRow({ kind, m, editable, onEdit, onChanged }: { kind: ModelKind; m: SavedModel; editable: boolean; onEdit: () => void; onChanged: () => void }) {
  const confirm = useConfirm();
  const act = useAction();
  const probe = useAction();
  const [tested, setTested] = useState<ModelTestResult | null>(null);
  const body = () => {
    const r = bodyOf(formOf(m), kind);
    if ('errors' in r) throw new Error('this model cannot be sent back as it is');
    return r.body;
  };
  const test = async () => {
    setTested(null);
    // No api_key: the server tests with the key stored under this name.
    const r = await probe.run(() => api.testModel(kind, body()));
    if (r) setTested(r);
  };
  const makeDefault = async () => {
    if (await act.run(() => api.updateModel(kind, m.name, { ...body(), is_default: true }))) onChanged();
  };
  const remove = async () => {
    const ok = await confirm({
      title: `Delete ${m.name}?`,
      content: m.is_default
        ? 'It is the default model: the oldest model left becomes the default. Pipelines naming it fail until changed.'
        : 'Pipelines naming this model fail until changed.',
      confirmButtonContent: 'Delete',
      confirmButtonType: 'danger',
    });
    if (!ok) return;
    if (await act.run(() => api.deleteModel(kind, m.name))) onChanged();
  };
  return (
    <Box
      as="li"
      data-testid="model-row"
      data-name={m.name}
      data-default={String(m.is_default)}
      sx={{ border: '1px solid', borderColor: m.is_default ? 'accent.muted' : 'border.default', borderRadius: 2, p: 2, display: 'flex', flexDirection: 'column', gap: 1 }}
    >
      <Box sx={{ display: 'flex', alignItems: 'center', gap: 2, flexWrap: 'wrap' }}>
        <Text sx={{ fontWeight: 'bold' }} data-testid="model-row-name">
          {m.name}
        </Text>
        {m.is_default ? (
          <Label variant="accent" data-testid="model-default-badge">
            default
          </Label>
        ) : null}
        {m.scope ? (
          <Label variant={m.scope === 'own' ? 'success' : 'secondary'} data-testid="model-scope">
            {m.scope === 'own' ? (m.owner ? `own · ${m.owner}` : 'own') : 'global'}
          </Label>
        ) : null}
        <Text sx={{ color: 'fg.muted', fontSize: 1 }} data-testid="model-row-provider">
          {PROVIDER_LABEL[m.provider] || m.provider} · <span className="mono">{m.model_name}</span>
          {kind === 'embedding' && m.dimensions ? ` · ${m.dimensions} dimensions` : ''}
        </Text>
        <Box sx={{ flex: 1 }} />
        {editable ? (
          <>
            <Button size="small" leadingVisual={BeakerIcon} onClick={test} disabled={probe.busy} data-testid="model-test">
              {probe.busy ? 'Testing…' : 'Test'}
            </Button>
            {!m.is_default ? (
              <Button size="small" leadingVisual={StarIcon} onClick={makeDefault} disabled={act.busy} data-testid="model-make-default">
                Set default
              </Button>
            ) : null}
            <Button size="small" leadingVisual={PencilIcon} onClick={onEdit} data-testid="model-edit">
              Edit
            </Button>
            <Button size="small" variant="danger" leadingVisual={TrashIcon} onClick={remove} disabled={act.busy} aria-label={`Delete ${m.name}`} data-testid="model-delete">
              Delete
            </Button>
          </>
        ) : (
          <Text sx={{ color: 'fg.muted', fontSize: 0 }} data-testid="model-read-only">
            read-only
          </Text>
        )}
      </Box>
      <Text sx={{ fontSize: 0, wordBreak: 'break-all' }} className="mono" data-testid="model-row-endpoint">
        {m.endpoint}
      </Text>
      <Box sx={{ display: 'flex', gap: 3, flexWrap: 'wrap', fontSize: 0, color: 'fg.muted' }}>
        <Text data-testid="model-row-limits">{limitsText(m)}</Text>
        <Text data-testid="model-row-price">{priceText(m)}</Text>
        <Text data-testid="model-row-key" sx={{ color: m.api_key_set ? 'fg.default' : 'fg.muted' }}>
          {keyText(m)}
        </Text>
      </Box>
      <TestResult result={tested} error={probe.error} />
      <ErrorFlash error={act.error} testid="model-row-error" onDismiss={act.clear} />
    </Box>
  );
}

// The models of one kind: the list and the add/edit dialog.
function ModelSection({ kind }: { kind: ModelKind }) {
  const { state } = useAuth();
  const [models, setModels] = useState<SavedModel[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [dialog, setDialog] = useState<{ model: SavedModel | null } | null>(null);
  const load = useCallback(async () => {
    try {
      setModels(await api.models(kind));
      setError(null);
    } catch (e) {
      setError(e);
      setModels((m) => m ?? []);
    }
  }, [kind]);
  useEffect(() => {
    load();
  }, [load]);
  // Members may add models of their own where the server allows it; it
  // answers 403 where it does not, and the dialog says so.
  const mayAdd = state.kind === 'user' || state.kind === 'off';
  return (
    <Box as="section" aria-labelledby={`models-${kind}-h`} data-testid={`models-${kind}`} sx={{ mb: 4 }}>
      <Box sx={{ display: 'flex', alignItems: 'center', gap: 2, mb: 2 }}>
        <Box as="h2" id={`models-${kind}-h`} sx={{ fontSize: 2, m: 0, flex: 1 }}>
          {KIND_TITLE[kind]}
        </Box>
        {mayAdd ? (
          <Button leadingVisual={PlusIcon} onClick={() => setDialog({ model: null })} data-testid="model-add">
            Add model
          </Button>
        ) : null}
      </Box>
      <ErrorFlash error={error} testid="models-error" />
      {models === null ? <Spinner size="small" /> : null}
      {models && models.length === 0 && !error ? (
        <Text as="p" sx={{ color: 'fg.muted' }} data-testid="models-empty">
          No {kind === 'llm' ? 'LLM' : 'embedding'} models saved: blocks use the server&apos;s configured endpoint.
        </Text>
      ) : null}
      <Box as="ul" sx={{ listStyle: 'none', p: 0, m: 0, display: 'flex', flexDirection: 'column', gap: 2 }}>
        {(models || []).map((m) => (
          <ModelRow key={m.name} kind={kind} m={m} editable={canEdit(m, state)} onEdit={() => setDialog({ model: m })} onChanged={load} />
        ))}
      </Box>
      {dialog ? (
        <ModelDialog
          kind={kind}
          model={dialog.model}
          onClose={(changed) => {
            setDialog(null);
            if (changed) load();
          }}
        />
      ) : null}
    </Box>
  );
}

// Named LLM and embedding models (SPEC §9): endpoint, key, limits and
// price of each; blocks pick them by name.
export default function ModelsPage() {
  useEffect(() => {
    document.title = 'Models · dgen';
  }, []);
  return (
    <Box sx={{ p: 4, maxWidth: 1100, width: '100%', mx: 'auto' }} data-testid="models-page">
      <PageTitle>Models</PageTitle>
      <Text as="p" sx={{ color: 'fg.muted', mt: 0 }}>
        The LLMs and embedding models blocks call. Keys are write-only: the server keeps them sealed and shows their last four characters.
      </Text>
      <ModelSection kind="llm" />
      <ModelSection kind="embedding" />
    </Box>
  );
}
