import React, { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { Box, Button, CounterLabel, Flash, FormControl, IconButton, Label, Select, Spinner, Text, Textarea, useConfirm } from '@primer/react';
import {
  CheckIcon,
  ChevronLeftIcon,
  ChevronRightIcon,
  DownloadIcon,
  GearIcon,
  PencilIcon,
  QuestionIcon,
  SyncIcon,
  TrashIcon,
  XIcon,
  ClockIcon,
} from '@primer/octicons-react';
import { api } from '../api';
import type { DataRecord, FieldOrder, Job, Json, JsonObject, Pipeline, RecordStatus } from '../types';
import { ErrorFlash, PageTitle, TraceView } from '../components/common';
import { fmtTime, pipelineLabel, preview, shortId } from '../lib/format';
import { allFieldNames, arrange, normalizeOrder, recordFields, roleOf, withRole, type Role } from '../review/fields';

const STATUSES: RecordStatus[] = ['pending', 'accepted', 'rejected', 'edited'];
const PAGE = 500;
const CAP = 5000;

function statusVariant(s: string): 'secondary' | 'success' | 'danger' | 'accent' {
  return s === 'accepted' ? 'success' : s === 'rejected' ? 'danger' : s === 'edited' ? 'accent' : 'secondary';
}

function FieldValue({ value, big }: { value: Json; big?: boolean }) {
  if (typeof value === 'string') {
    return (
      <Text as="div" sx={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word', fontSize: big ? 2 : 1 }}>
        {value === '' ? <Text sx={{ color: 'fg.muted' }}>(empty)</Text> : value}
      </Text>
    );
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) {
    return (
      <Text as="div" sx={{ fontFamily: 'mono', fontSize: big ? 2 : 1 }}>
        {String(value)}
      </Text>
    );
  }
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}

function isTyping(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  if (!t) return false;
  const tag = t.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || t.isContentEditable;
}

const SHORTCUTS: [string, string][] = [
  ['a', 'accept'],
  ['r', 'reject'],
  ['u', 'set back to pending'],
  ['e', 'edit'],
  ['n', 'next record'],
  ['p', 'previous record'],
  ['?', 'show or hide this help'],
];

export default function ReviewPage() {
  const [params, setParams] = useSearchParams();
  const pipelineId = params.get('pipeline_id') || '';
  const jobId = params.get('job_id') || '';
  const status = params.get('status') || '';
  const view = params.get('view') === 'single' ? 'single' : 'table';
  const recordParam = params.get('record') || '';

  const [pipelines, setPipelines] = useState<Pipeline[] | null>(null);
  const [pipeline, setPipeline] = useState<Pipeline | null>(null);
  const [jobs, setJobs] = useState<Job[]>([]);
  const [all, setAll] = useState<DataRecord[] | null>(null);
  const [capped, setCapped] = useState(false);
  const [visibleIds, setVisibleIds] = useState<string[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  const [editOutput, setEditOutput] = useState('');
  const [editMeta, setEditMeta] = useState('');
  const [editError, setEditError] = useState<string | null>(null);
  const [showHelp, setShowHelp] = useState(false);
  const [showHidden, setShowHidden] = useState(false);
  const [showTrace, setShowTrace] = useState(false);
  const [showFields, setShowFields] = useState(false);
  const [order, setOrder] = useState<FieldOrder>(normalizeOrder(null));
  const [orderSaved, setOrderSaved] = useState(true);
  const [reloadTick, setReloadTick] = useState(0);
  const confirm = useConfirm();
  const outputRef = useRef<HTMLTextAreaElement>(null);

  const update = useCallback(
    (changes: Record<string, string | null>, replace = true) => {
      const next = new URLSearchParams(params);
      for (const [k, v] of Object.entries(changes)) {
        if (v === null || v === '') next.delete(k);
        else next.set(k, v);
      }
      setParams(next, { replace });
    },
    [params, setParams],
  );

  useEffect(() => {
    document.title = 'Review · dgen';
    api.pipelines().then(setPipelines, (e) => {
      setPipelines([]);
      setError(e);
    });
  }, []);

  useEffect(() => {
    setPipeline(null);
    if (!pipelineId) {
      setOrder(normalizeOrder(null));
      return;
    }
    api.pipeline(pipelineId).then(
      (p) => {
        setPipeline(p);
        setOrder(normalizeOrder(p.validation_config?.field_order));
        setOrderSaved(true);
      },
      (e) => setError(e),
    );
  }, [pipelineId]);

  // The job filter's choices; refreshed with the records (a deletion takes
  // its job away).
  useEffect(() => {
    api.jobs({ pipeline_id: pipelineId, limit: 100 }).then(setJobs, () => setJobs([]));
  }, [pipelineId, reloadTick]);

  // All records for the pipeline/job filter, fetched in pages; counts per
  // status and the status filter are computed here.
  useEffect(() => {
    let cancelled = false;
    setAll(null);
    (async () => {
      const out: DataRecord[] = [];
      try {
        for (let off = 0; off < CAP; off += PAGE) {
          const page = await api.records({ pipeline_id: pipelineId, job_id: jobId, limit: PAGE, offset: off });
          out.push(...page);
          if (page.length < PAGE) break;
        }
        if (cancelled) return;
        setCapped(out.length >= CAP);
        setAll(out);
      } catch (e) {
        if (!cancelled) {
          setError(e);
          setAll([]);
        }
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [pipelineId, jobId, reloadTick]);

  // Which records are listed is decided when the filter or data changes,
  // not on every status change, so accepting a record under the "pending"
  // filter does not make it jump away.
  useEffect(() => {
    if (!all) return;
    setVisibleIds(all.filter((r) => !status || r.status === status).map((r) => r.id));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [all === null, status, pipelineId, jobId, reloadTick, all?.length]);

  const byId = useMemo(() => new Map((all || []).map((r) => [r.id, r])), [all]);
  const visible = useMemo(() => visibleIds.map((id) => byId.get(id)).filter((r): r is DataRecord => !!r), [visibleIds, byId]);
  const counts = useMemo(() => {
    const c: Record<string, number> = { all: 0, pending: 0, accepted: 0, rejected: 0, edited: 0 };
    for (const r of all || []) {
      c.all++;
      c[r.status] = (c[r.status] || 0) + 1;
    }
    return c;
  }, [all]);

  let index = visible.findIndex((r) => r.id === recordParam);
  if (index < 0) index = 0;
  const current = visible[index];
  const fieldNames = useMemo(() => allFieldNames(visible.length ? visible : all || []), [visible, all]);

  const go = useCallback(
    (i: number) => {
      if (!visible.length) return;
      const j = Math.max(0, Math.min(visible.length - 1, i));
      setEditing(false);
      update({ record: visible[j].id });
    },
    [visible, update],
  );

  const setStatus = useCallback(
    async (r: DataRecord | undefined, s: RecordStatus) => {
      if (!r) return;
      setError(null);
      const before = r.status;
      setAll((list) => (list ? list.map((x) => (x.id === r.id ? { ...x, status: s } : x)) : list));
      try {
        await api.updateRecord(r.id, { status: s });
        setNotice(`Record ${shortId(r.id)} ${s === 'pending' ? 'set to pending' : s}.`);
      } catch (e) {
        setAll((list) => (list ? list.map((x) => (x.id === r.id ? { ...x, status: before } : x)) : list));
        setError(e);
      }
    },
    [],
  );

  const startEdit = useCallback(
    (r: DataRecord | undefined) => {
      if (!r) return;
      if (view !== 'single') update({ view: 'single', record: r.id });
      setEditOutput(r.output);
      setEditMeta(JSON.stringify(r.metadata || {}, null, 2));
      setEditError(null);
      setEditing(true);
      setTimeout(() => outputRef.current?.focus(), 30);
    },
    [view, update],
  );

  const saveEdit = async () => {
    if (!current) return;
    let meta: JsonObject;
    try {
      const m = JSON.parse(editMeta);
      if (!m || typeof m !== 'object' || Array.isArray(m)) throw new Error('metadata must be a JSON object');
      meta = m as JsonObject;
    } catch (e) {
      setEditError(`Metadata: ${(e as Error).message}`);
      return;
    }
    const body: JsonObject = {};
    if (editOutput !== current.output) body.output = editOutput;
    if (JSON.stringify(meta) !== JSON.stringify(current.metadata || {})) body.metadata = meta;
    if (!Object.keys(body).length) {
      setEditing(false);
      return;
    }
    try {
      await api.updateRecord(current.id, body);
      setAll((list) => (list ? list.map((x) => (x.id === current.id ? { ...x, ...(body as Partial<DataRecord>), status: 'edited' } : x)) : list));
      setEditing(false);
      setNotice(`Record ${shortId(current.id)} saved as edited.`);
    } catch (e) {
      setEditError((e as Error).message);
    }
  };

  // Keyboard review: a/r/u/e/n/p act on the current record; ? toggles help.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (isTyping(e)) {
        if (e.key === 'Escape' && editing) setEditing(false);
        return;
      }
      if (document.querySelector('[role="dialog"], [role="alertdialog"]') && e.key !== '?') return;
      switch (e.key) {
        case 'a':
          setStatus(current, 'accepted');
          break;
        case 'r':
          setStatus(current, 'rejected');
          break;
        case 'u':
          setStatus(current, 'pending');
          break;
        case 'e':
          e.preventDefault();
          startEdit(current);
          break;
        case 'n':
        case 'j':
          go(index + 1);
          break;
        case 'p':
        case 'k':
          go(index - 1);
          break;
        case 'Enter':
          if (view === 'table' && current) update({ view: 'single', record: current.id });
          break;
        case 'Escape':
          if (editing) setEditing(false);
          else if (showHelp) setShowHelp(false);
          break;
        case '?':
          setShowHelp((s) => !s);
          break;
        default:
          return;
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [current, index, go, setStatus, startEdit, editing, showHelp, view, update]);

  const saveOrder = async () => {
    if (!pipelineId) return;
    setError(null);
    try {
      await api.setValidationConfig(pipelineId, order);
      setOrderSaved(true);
      setNotice('Field layout saved.');
    } catch (e) {
      setError(e);
    }
  };

  const deleteRecords = async () => {
    if (!jobId) return;
    const ok = await confirm({
      title: 'Delete records?',
      content: `All ${counts.all} record(s) of job ${shortId(jobId)} and the job itself will be deleted. This cannot be undone.`,
      confirmButtonContent: 'Delete',
      confirmButtonType: 'danger',
    });
    if (!ok) return;
    try {
      const r = await api.deleteRecords(jobId);
      setNotice(`Deleted ${r.deleted} record(s).`);
      update({ job_id: null, record: null });
      setReloadTick((t) => t + 1);
    } catch (e) {
      setError(e);
    }
  };

  const exportHref = api.exportUrl({ status, job_id: jobId, pipeline_id: pipelineId });
  const arranged = current ? arrange(order, recordFields(current)) : null;
  const primaryCols = fieldNames.filter((f) => roleOf(order, f) === 'primary').slice(0, 3);

  return (
    <Box sx={{ p: 4, maxWidth: 1400, width: '100%', mx: 'auto' }} data-testid="review-page">
      <PageTitle
        actions={
          <Box sx={{ display: 'flex', gap: 2, flexWrap: 'wrap' }}>
            <Button leadingVisual={SyncIcon} onClick={() => setReloadTick((t) => t + 1)} data-testid="review-refresh">
              Refresh
            </Button>
            <Button as="a" href={exportHref} download leadingVisual={DownloadIcon} data-testid="export-link">
              Export JSONL
            </Button>
            <Button variant="danger" leadingVisual={TrashIcon} onClick={deleteRecords} disabled={!jobId} data-testid="delete-records" title={jobId ? '' : 'Choose a job first'}>
              Delete job records
            </Button>
          </Box>
        }
      >
        Review
      </PageTitle>

      <Box sx={{ display: 'flex', gap: 3, flexWrap: 'wrap', alignItems: 'flex-end', mb: 3 }}>
        <FormControl>
          <FormControl.Label>Pipeline</FormControl.Label>
          <Select value={pipelineId} onChange={(e) => update({ pipeline_id: e.target.value, job_id: null, record: null })} data-testid="filter-pipeline">
            <Select.Option value="">All pipelines</Select.Option>
            {(pipelines || []).map((p) => (
              <Select.Option key={p.id} value={p.id}>
                {pipelineLabel(p)}
              </Select.Option>
            ))}
          </Select>
        </FormControl>
        <FormControl>
          <FormControl.Label>Job</FormControl.Label>
          <Select value={jobId} onChange={(e) => update({ job_id: e.target.value, record: null })} data-testid="filter-job">
            <Select.Option value="">All jobs</Select.Option>
            {jobId && !jobs.some((j) => j.id === jobId) ? <Select.Option value={jobId}>{shortId(jobId)}</Select.Option> : null}
            {jobs.map((j) => (
              <Select.Option key={j.id} value={j.id}>
                {shortId(j.id)} · {j.status} · {fmtTime(j.created_at)}
              </Select.Option>
            ))}
          </Select>
        </FormControl>
        <Box role="group" aria-label="Status filter" sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }} data-testid="filter-status">
          {['', ...STATUSES].map((s) => (
            <Button
              key={s || 'all'}
              size="small"
              variant={status === s ? 'primary' : 'default'}
              aria-pressed={status === s}
              onClick={() => update({ status: s, record: null })}
              data-testid={`status-filter-${s || 'all'}`}
              count={counts[s || 'all'] ?? 0}
            >
              {s || 'all'}
            </Button>
          ))}
        </Box>
        <Box sx={{ display: 'flex', gap: 1, ml: 'auto' }}>
          <Button size="small" variant={view === 'table' ? 'primary' : 'default'} aria-pressed={view === 'table'} onClick={() => update({ view: null })} data-testid="view-table">
            Table
          </Button>
          <Button size="small" variant={view === 'single' ? 'primary' : 'default'} aria-pressed={view === 'single'} onClick={() => update({ view: 'single' })} data-testid="view-single">
            Single
          </Button>
          <Button size="small" leadingVisual={GearIcon} onClick={() => setShowFields((s) => !s)} aria-expanded={showFields} data-testid="field-config-toggle">
            Fields
          </Button>
          <IconButton icon={QuestionIcon} size="small" aria-label="Keyboard shortcuts" onClick={() => setShowHelp((s) => !s)} data-testid="shortcut-help-button" />
        </Box>
      </Box>

      <ErrorFlash error={error} onDismiss={() => setError(null)} />
      {notice ? (
        <Flash variant="success" sx={{ mb: 2, py: 2 }} data-testid="review-notice" aria-live="polite">
          {notice}
        </Flash>
      ) : null}
      {capped ? <Flash variant="warning" sx={{ mb: 2 }}>Showing the newest {CAP} records; narrow the filter to see others.</Flash> : null}

      {showHelp ? (
        <Box role="dialog" aria-label="Keyboard shortcuts" data-testid="shortcut-help" sx={{ border: '1px solid', borderColor: 'border.default', borderRadius: 2, p: 3, mb: 3, bg: 'canvas.overlay', boxShadow: 'shadow.large' }}>
          <Box sx={{ display: 'flex', alignItems: 'center' }}>
            <Text sx={{ fontWeight: 'bold', flex: 1 }}>Keyboard shortcuts</Text>
            <IconButton icon={XIcon} size="small" variant="invisible" aria-label="Close help" onClick={() => setShowHelp(false)} />
          </Box>
          <Box as="dl" sx={{ display: 'grid', gridTemplateColumns: 'auto 1fr', gap: 1, m: 0, mt: 2 }}>
            {SHORTCUTS.map(([k, d]) => (
              <Box key={k} sx={{ display: 'contents' }}>
                <dt>
                  <kbd>{k}</kbd>
                </dt>
                <Box as="dd" sx={{ m: 0 }}>
                  {d}
                </Box>
              </Box>
            ))}
          </Box>
          <Text as="p" sx={{ fontSize: 0, color: 'fg.muted', mb: 0, mt: 2 }}>
            In the editor, Ctrl+Enter saves and Esc cancels. Shortcuts are off while typing in a field.
          </Text>
        </Box>
      ) : null}

      {showFields ? (
        <Box data-testid="field-config" sx={{ border: '1px solid', borderColor: 'border.default', borderRadius: 2, p: 3, mb: 3 }}>
          <Text as="div" sx={{ fontWeight: 'bold', mb: 2 }}>
            Field layout
          </Text>
          {!pipelineId ? (
            <Text sx={{ color: 'fg.muted' }}>Choose a pipeline to configure which fields are primary, secondary or hidden.</Text>
          ) : fieldNames.length === 0 ? (
            <Text sx={{ color: 'fg.muted' }}>No records to take field names from yet.</Text>
          ) : (
            <>
              <Box sx={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(220px, 1fr))', gap: 2 }}>
                {fieldNames.map((f) => (
                  <FormControl key={f}>
                    <FormControl.Label>{f}</FormControl.Label>
                    <Select
                      value={roleOf(order, f)}
                      onChange={(e) => {
                        setOrder((o) => withRole(o, f, e.target.value as Role));
                        setOrderSaved(false);
                      }}
                      data-testid={`field-role-${f}`}
                      block
                    >
                      <Select.Option value="primary">primary</Select.Option>
                      <Select.Option value="secondary">secondary</Select.Option>
                      <Select.Option value="hidden">hidden</Select.Option>
                    </Select>
                  </FormControl>
                ))}
              </Box>
              <Box sx={{ display: 'flex', gap: 2, alignItems: 'center', mt: 2 }}>
                <Button variant="primary" onClick={saveOrder} disabled={orderSaved} data-testid="save-field-config">
                  Save layout
                </Button>
                <Text sx={{ fontSize: 0, color: 'fg.muted' }}>{orderSaved ? `Saved for ${pipeline?.name || 'this pipeline'}` : 'Unsaved changes'}</Text>
              </Box>
            </>
          )}
        </Box>
      ) : null}

      {all === null ? (
        <Spinner />
      ) : visible.length === 0 ? (
        <Text as="div" sx={{ color: 'fg.muted', p: 4, textAlign: 'center' }} data-testid="no-records">
          No records match these filters.
        </Text>
      ) : view === 'table' ? (
        <Box sx={{ overflowX: 'auto' }}>
          <table className="dgen-table" data-testid="records-table" aria-label="Records">
            <thead>
              <tr>
                <th>#</th>
                <th>Status</th>
                {primaryCols.map((c) => (
                  <th key={c}>{c}</th>
                ))}
                <th>Created</th>
                <th>
                  <span className="sr-only" style={{ position: 'absolute', width: 1, height: 1, overflow: 'hidden', clip: 'rect(0 0 0 0)' }}>
                    Actions
                  </span>
                </th>
              </tr>
            </thead>
            <tbody>
              {visible.map((r, i) => {
                const fields = new Map(recordFields(r));
                return (
                  <tr
                    key={r.id}
                    className={i === index ? 'current' : ''}
                    data-testid="record-row"
                    data-record-id={r.id}
                    data-status={r.status}
                    aria-selected={i === index}
                    onClick={() => update({ record: r.id })}
                    onDoubleClick={() => update({ view: 'single', record: r.id })}
                  >
                    <td>{i + 1}</td>
                    <td>
                      <Label variant={statusVariant(r.status)} data-testid="record-status">
                        {r.status}
                      </Label>
                    </td>
                    {primaryCols.map((c) => (
                      <td key={c} style={{ maxWidth: 480 }}>
                        {preview(fields.get(c) ?? '', 200)}
                      </td>
                    ))}
                    <td style={{ whiteSpace: 'nowrap' }}>{fmtTime(r.created_at)}</td>
                    <td>
                      <Button
                        size="small"
                        onClick={(e: React.MouseEvent) => {
                          // The row's own click would replace the URL again
                          // without view=single.
                          e.stopPropagation();
                          update({ view: 'single', record: r.id });
                        }}
                        data-testid="open-record"
                        aria-label={`Open record ${i + 1}`}
                      >
                        Open
                      </Button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </Box>
      ) : current && arranged ? (
        <Box data-testid="record-single" data-record-id={current.id} data-status={current.status}>
          <Box sx={{ display: 'flex', alignItems: 'center', gap: 2, flexWrap: 'wrap', mb: 3 }}>
            <IconButton icon={ChevronLeftIcon} aria-label="Previous record (p)" onClick={() => go(index - 1)} disabled={index === 0} data-testid="record-prev" />
            <Text data-testid="record-position">
              Record {index + 1} of {visible.length}
            </Text>
            <IconButton icon={ChevronRightIcon} aria-label="Next record (n)" onClick={() => go(index + 1)} disabled={index >= visible.length - 1} data-testid="record-next" />
            <Label variant={statusVariant(current.status)} data-testid="record-status" sx={{ ml: 2 }}>
              {current.status}
            </Label>
            <Text sx={{ color: 'fg.muted', fontSize: 0 }} title={current.id}>
              {shortId(current.id)} · job {shortId(current.job_id)} · {fmtTime(current.created_at)}
            </Text>
            <Box sx={{ flex: 1 }} />
            <Button leadingVisual={CheckIcon} onClick={() => setStatus(current, 'accepted')} data-testid="record-accept">
              Accept <kbd>a</kbd>
            </Button>
            <Button leadingVisual={XIcon} onClick={() => setStatus(current, 'rejected')} data-testid="record-reject">
              Reject <kbd>r</kbd>
            </Button>
            <Button leadingVisual={ClockIcon} onClick={() => setStatus(current, 'pending')} data-testid="record-pending">
              Pending <kbd>u</kbd>
            </Button>
            <Button leadingVisual={PencilIcon} onClick={() => startEdit(current)} data-testid="record-edit">
              Edit <kbd>e</kbd>
            </Button>
          </Box>

          {editing ? (
            <Box data-testid="record-editor" sx={{ border: '1px solid', borderColor: 'accent.emphasis', borderRadius: 2, p: 3, mb: 3 }}>
              <FormControl>
                <FormControl.Label>Output</FormControl.Label>
                <Textarea
                  ref={outputRef}
                  value={editOutput}
                  onChange={(e) => setEditOutput(e.target.value)}
                  rows={8}
                  block
                  resize="vertical"
                  data-testid="edit-output"
                  onKeyDown={(e) => {
                    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) saveEdit();
                  }}
                />
              </FormControl>
              <FormControl sx={{ mt: 2 }}>
                <FormControl.Label>Metadata (JSON)</FormControl.Label>
                <Textarea
                  className="mono"
                  value={editMeta}
                  onChange={(e) => setEditMeta(e.target.value)}
                  rows={5}
                  block
                  resize="vertical"
                  data-testid="edit-metadata"
                  onKeyDown={(e) => {
                    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) saveEdit();
                  }}
                />
              </FormControl>
              {editError ? (
                <Flash variant="danger" sx={{ mt: 2 }} data-testid="edit-error">
                  {editError}
                </Flash>
              ) : null}
              <Box sx={{ display: 'flex', gap: 2, mt: 2 }}>
                <Button variant="primary" onClick={saveEdit} data-testid="edit-save">
                  Save (Ctrl+Enter)
                </Button>
                <Button onClick={() => setEditing(false)} data-testid="edit-cancel">
                  Cancel (Esc)
                </Button>
              </Box>
            </Box>
          ) : null}

          <Box sx={{ display: 'flex', flexDirection: 'column', gap: 3 }}>
            {arranged.primary.map(([k, v]) => (
              <Box key={k} data-testid={`field-primary-${k}`} sx={{ border: '1px solid', borderColor: 'border.default', borderRadius: 2, p: 3 }}>
                <Text as="div" sx={{ fontSize: 0, color: 'fg.muted', mb: 1, fontWeight: 'bold' }}>
                  {k}
                </Text>
                <FieldValue value={v} big />
              </Box>
            ))}
            {arranged.secondary.length ? (
              <Box sx={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(280px, 1fr))', gap: 2 }}>
                {arranged.secondary.map(([k, v]) => (
                  <Box key={k} data-testid={`field-secondary-${k}`} sx={{ border: '1px solid', borderColor: 'border.muted', borderRadius: 2, p: 2, bg: 'canvas.subtle' }}>
                    <Text as="div" sx={{ fontSize: 0, color: 'fg.muted', mb: 1 }}>
                      {k}
                    </Text>
                    <FieldValue value={v} />
                  </Box>
                ))}
              </Box>
            ) : null}
            {arranged.hidden.length ? (
              <Box>
                <Button size="small" variant="invisible" onClick={() => setShowHidden((s) => !s)} data-testid="toggle-hidden" aria-expanded={showHidden}>
                  {showHidden ? 'Hide' : 'Show'} {arranged.hidden.length} hidden field(s)
                </Button>
                {showHidden
                  ? arranged.hidden.map(([k, v]) => (
                      <Box key={k} sx={{ p: 2 }} data-testid={`field-hidden-${k}`}>
                        <Text as="div" sx={{ fontSize: 0, color: 'fg.muted' }}>
                          {k}
                        </Text>
                        <FieldValue value={v} />
                      </Box>
                    ))
                  : null}
              </Box>
            ) : null}
            <Box>
              <Button onClick={() => setShowTrace((s) => !s)} aria-expanded={showTrace} data-testid="record-trace-toggle">
                {showTrace ? 'Hide' : 'Show'} execution trace ({current.trace?.length || 0} blocks)
              </Button>
              {showTrace ? (
                <Box sx={{ mt: 2 }}>
                  <TraceView trace={current.trace} testid="record-trace" />
                </Box>
              ) : null}
            </Box>
          </Box>
        </Box>
      ) : null}

      <Box
        data-testid="shortcut-hint"
        sx={{ mt: 4, fontSize: 0, color: 'fg.muted', display: 'flex', gap: 2, flexWrap: 'wrap', alignItems: 'center' }}
      >
        <span>Keyboard:</span>
        {SHORTCUTS.map(([k, d]) => (
          <span key={k}>
            <kbd>{k}</kbd> {d}
          </span>
        ))}
        {counts.all ? <CounterLabel>{counts.all} total</CounterLabel> : null}
      </Box>
    </Box>
  );
}
