import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { Box, Button, CounterLabel, Flash, FormControl, IconButton, Select, Spinner, Text, TextInput, useConfirm } from '@primer/react';
import { ChevronLeftIcon, ChevronRightIcon, DownloadIcon, GearIcon, QuestionIcon, SearchIcon, SyncIcon, TrashIcon } from '@primer/octicons-react';
import { api } from '../api';
import type { DataRecord, FieldOrder, Job, JsonObject, Pipeline, RecordStatus } from '../types';
import { ErrorFlash, PageTitle } from '../components/common';
import { fmtInt, fmtTime, pipelineLabel, shortId } from '../lib/format';
import { allFieldNames, normalizeOrder, roleOf } from '../review/fields';
import {
  boundCount, filterFromParams, filterToParams, MAX_BOUNDS, MAX_Q, nextPendingIndex, sortFromParam, toggleSort, withRange,
  type Range, type RecordFilter,
} from '../review/query';
import { useRecords, useRecordStats, useTick } from '../hooks/useRecords';
import { RecordTable } from '../review/RecordTable';
import { RecordView } from '../review/RecordView';
import { StatsPanel } from '../review/StatsPanel';
import { BulkReview } from '../review/BulkReview';
import { FieldLayout } from '../review/FieldLayout';
import { isTyping, SHORTCUTS, ShortcutHelp } from '../review/Shortcuts';

const STATUSES: RecordStatus[] = ['pending', 'accepted', 'rejected', 'edited'];
const PAGE = 50;

// Where to land when the next page arrives: its first or last record, or
// its first pending one (after "a" or "r" at the end of a page).
type Land = 'first' | 'last' | 'pending' | null;

export default function ReviewPage() {
  const [params, setParams] = useSearchParams();
  const filter = useMemo(() => filterFromParams(params), [params]);
  const sort = sortFromParam(params.get('sort'));
  const offset = Math.max(0, Math.floor(Number(params.get('offset')) || 0));
  const view = params.get('view') === 'single' ? 'single' : 'table';
  const recordParam = params.get('record') || '';
  const { pipeline_id: pipelineId, job_id: jobId, status } = filter;

  const [pipelines, setPipelines] = useState<Pipeline[] | null>(null);
  const [pipeline, setPipeline] = useState<Pipeline | null>(null);
  const [jobs, setJobs] = useState<Job[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  const [showHelp, setShowHelp] = useState(false);
  const [showFields, setShowFields] = useState(false);
  const [order, setOrder] = useState<FieldOrder>(normalizeOrder(null));
  const [orderSaved, setOrderSaved] = useState(true);
  const [qInput, setQInput] = useState(filter.q);
  const [tick, reload] = useTick();
  const [statsTick, reloadStats] = useTick();
  const land = useRef<Land>(null);
  const confirm = useConfirm();

  const { records, total, loading, fresh, error: loadError, patch } = useRecords({ filter, sort, offset, size: PAGE }, tick);
  const { stats, error: statsError } = useRecordStats(filter, tick + statsTick);

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

  // A new filter: its criteria replace the old ones in the URL, and the
  // list starts again at its first page.
  const setFilter = useCallback(
    (f: RecordFilter) => {
      const next = new URLSearchParams();
      for (const k of ['view', 'sort']) {
        const v = params.get(k);
        if (v) next.set(k, v);
      }
      for (const [k, v] of Object.entries(filterToParams(f))) next.set(k, v);
      setParams(next, { replace: true });
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
  }, [pipelineId, tick]);

  // The search box follows the URL (back button, a link) ...
  useEffect(() => setQInput(filter.q), [filter.q]);
  // ... and the URL follows the search box once typing pauses.
  useEffect(() => {
    if (qInput === filter.q) return;
    const t = setTimeout(() => setFilter({ ...filter, q: qInput.slice(0, MAX_Q) }), 400);
    return () => clearTimeout(t);
  }, [qInput, filter, setFilter]);

  const list = records || [];
  let index = list.findIndex((r) => r.id === recordParam);
  if (index < 0) index = 0;
  const current: DataRecord | undefined = list[index];

  // A page asked for by moving past the end of the last one: land on it.
  useEffect(() => {
    if (!records || !fresh || !land.current) return;
    const how = land.current;
    land.current = null;
    if (!records.length) return;
    let i = how === 'last' ? records.length - 1 : 0;
    if (how === 'pending') i = Math.max(0, nextPendingIndex(records, -1));
    update({ record: records[i].id });
  }, [records, fresh, update]);

  // The offset of the page after this one: records that left a status
  // filter (accepted under "pending") are gone from the server's list, so
  // the next page starts that much earlier.
  const nextOffset = useCallback(() => {
    const left = status ? list.filter((r) => r.status !== status).length : 0;
    return offset + list.length - left;
  }, [list, offset, status]);

  const turnPage = useCallback(
    (to: number, how: Land) => {
      land.current = how;
      setEditing(false);
      update({ offset: to > 0 ? String(to) : null, record: null });
      if (to === offset) reload();
    },
    [offset, update, reload],
  );

  const go = useCallback(
    (i: number) => {
      if (!list.length) return;
      if (i >= list.length) {
        if (offset + list.length < total) turnPage(nextOffset(), 'first');
        return;
      }
      if (i < 0) {
        if (offset > 0) turnPage(Math.max(0, offset - PAGE), 'last');
        return;
      }
      setEditing(false);
      update({ record: list[i].id });
    },
    [list, offset, total, nextOffset, turnPage, update],
  );

  const setStatus = useCallback(
    async (r: DataRecord | undefined, s: RecordStatus) => {
      if (!r) return;
      setError(null);
      const before = r.status;
      patch(r.id, { status: s });
      try {
        await api.updateRecord(r.id, { status: s });
        setNotice(`Record ${shortId(r.id)} ${s === 'pending' ? 'set to pending' : s}.`);
        reloadStats();
      } catch (e) {
        patch(r.id, { status: before });
        setError(e);
      }
    },
    [patch, reloadStats],
  );

  // "a" and "r": decide, then on to the next pending record, on a later
  // page if this one has none left (once the server has the decision, so
  // the next page is counted without it).
  const decide = useCallback(
    async (s: RecordStatus) => {
      if (!current) return;
      const j = nextPendingIndex(list, index);
      setEditing(false);
      if (j >= 0) {
        update({ record: list[j].id });
        await setStatus(current, s);
        return;
      }
      await setStatus(current, s);
      if (offset + list.length < total) {
        const leaves = (r: DataRecord) => (r.id === current.id ? s !== status : r.status !== status);
        const left = status ? list.filter(leaves).length : 0;
        turnPage(offset + list.length - left, 'pending');
      }
    },
    [current, list, index, offset, total, status, setStatus, update, turnPage],
  );

  const startEdit = useCallback(
    (r: DataRecord | undefined) => {
      if (!r) return;
      if (view !== 'single') update({ view: 'single', record: r.id });
      setEditing(true);
    },
    [view, update],
  );

  const saveEdit = async (body: JsonObject) => {
    if (!current) return;
    await api.updateRecord(current.id, body);
    patch(current.id, { ...(body as Partial<DataRecord>), status: 'edited' });
    setEditing(false);
    setNotice(`Record ${shortId(current.id)} saved as edited.`);
    reloadStats();
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
          decide('accepted');
          break;
        case 'r':
          decide('rejected');
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
  }, [current, index, go, decide, setStatus, startEdit, editing, showHelp, view, update]);

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

  const counts = useMemo(() => {
    const c: Record<string, number> = { all: 0 };
    for (const s of STATUSES) {
      c[s] = stats?.by_status[s] ?? 0;
      c.all += c[s];
    }
    return c;
  }, [stats]);

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
      update({ job_id: null, record: null, offset: null });
      reload();
    } catch (e) {
      setError(e);
    }
  };

  const onRange = (field: string, r: Range) => {
    const next = withRange(filter, field, r);
    if (boundCount(next) > MAX_BOUNDS) {
      setError(new Error(`At most ${MAX_BOUNDS} range bounds at once; clear one first.`));
      return;
    }
    setFilter(next);
  };

  const onSort = (field: string) => {
    const next = field === 'created_at' ? (sort === '' ? 'created_at' : '') : toggleSort(sort, field);
    update({ sort: next || null, offset: null, record: null });
  };

  const exportHref = api.exportUrl(filterToParams(filter));
  const fieldNames = allFieldNames(list);
  const primaryCols = fieldNames.filter((f) => roleOf(order, f) === 'primary').slice(0, 3);
  const scoreCols = Object.keys(stats?.fields || {})
    .filter((f) => !primaryCols.includes(f))
    .slice(0, 4);
  const first = list.length ? offset + 1 : 0;
  const last = offset + list.length;

  return (
    <Box sx={{ p: 4, maxWidth: 1400, width: '100%', mx: 'auto' }} data-testid="review-page">
      <PageTitle
        actions={
          <Box sx={{ display: 'flex', gap: 2, flexWrap: 'wrap' }}>
            <Button leadingVisual={SyncIcon} onClick={reload} data-testid="review-refresh">
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
          <Select value={pipelineId} onChange={(e) => setFilter({ ...filter, pipeline_id: e.target.value, job_id: '' })} data-testid="filter-pipeline">
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
          <Select value={jobId} onChange={(e) => setFilter({ ...filter, job_id: e.target.value })} data-testid="filter-job">
            <Select.Option value="">All jobs</Select.Option>
            {jobId && !jobs.some((j) => j.id === jobId) ? <Select.Option value={jobId}>{shortId(jobId)}</Select.Option> : null}
            {jobs.map((j) => (
              <Select.Option key={j.id} value={j.id}>
                {shortId(j.id)} · {j.status} · {fmtTime(j.created_at)}
              </Select.Option>
            ))}
          </Select>
        </FormControl>
        <FormControl>
          <FormControl.Label>Search in output</FormControl.Label>
          <TextInput
            leadingVisual={SearchIcon}
            value={qInput}
            maxLength={MAX_Q}
            onChange={(e) => setQInput(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') setFilter({ ...filter, q: qInput });
            }}
            placeholder="text in the output"
            data-testid="record-search"
          />
        </FormControl>
        <Box role="group" aria-label="Status filter" sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }} data-testid="filter-status">
          {['', ...STATUSES].map((s) => (
            <Button
              key={s || 'all'}
              size="small"
              variant={status === s ? 'primary' : 'default'}
              aria-pressed={status === s}
              onClick={() => setFilter({ ...filter, status: s as RecordStatus | '' })}
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

      <StatsPanel stats={stats} ranges={filter.ranges} onRange={onRange} />

      <ErrorFlash error={error || loadError || statsError} onDismiss={() => setError(null)} />
      {notice ? (
        <Flash variant="success" sx={{ mb: 2, py: 2 }} data-testid="review-notice" aria-live="polite">
          {notice}
        </Flash>
      ) : null}

      {showHelp ? <ShortcutHelp onClose={() => setShowHelp(false)} /> : null}

      {showFields ? (
        <FieldLayout
          pipelineId={pipelineId}
          pipelineName={pipeline?.name}
          fieldNames={fieldNames}
          order={order}
          saved={orderSaved}
          onChange={(o) => {
            setOrder(o);
            setOrderSaved(false);
          }}
          onSave={saveOrder}
        />
      ) : null}

      <Box sx={{ display: 'flex', alignItems: 'center', gap: 2, flexWrap: 'wrap', mb: 2 }}>
        <Text data-testid="pager-info" data-total={total} sx={{ color: 'fg.muted' }}>
          {records === null ? 'Loading…' : `${fmtInt(first)}–${fmtInt(last)} of ${fmtInt(total)}`}
        </Text>
        <IconButton icon={ChevronLeftIcon} size="small" aria-label="Previous page" disabled={offset === 0} onClick={() => turnPage(Math.max(0, offset - PAGE), 'first')} data-testid="pager-prev" />
        <IconButton icon={ChevronRightIcon} size="small" aria-label="Next page" disabled={last >= total} onClick={() => turnPage(nextOffset(), 'first')} data-testid="pager-next" />
        {loading && records !== null ? <Spinner size="small" /> : null}
        <Box sx={{ flex: 1 }} />
        <BulkReview
          filter={filter}
          total={total}
          onDone={(m) => {
            setNotice(m);
            reload();
          }}
        />
      </Box>

      {records === null ? (
        <Spinner />
      ) : list.length === 0 ? (
        <Text as="div" sx={{ color: 'fg.muted', p: 4, textAlign: 'center' }} data-testid="no-records">
          No records match these filters.
        </Text>
      ) : view === 'table' ? (
        <RecordTable
          records={list}
          offset={offset}
          index={index}
          primaryCols={primaryCols}
          scoreCols={scoreCols}
          sort={sort}
          onSort={onSort}
          onSelect={(i) => update({ record: list[i].id })}
          onOpen={(i) => update({ view: 'single', record: list[i].id })}
        />
      ) : current ? (
        <RecordView
          record={current}
          position={offset + index + 1}
          total={total}
          order={order}
          editing={editing}
          onMove={(d) => go(index + d)}
          onStatus={(s) => setStatus(current, s)}
          onEdit={() => startEdit(current)}
          onSave={saveEdit}
          onCancelEdit={() => setEditing(false)}
        />
      ) : null}

      <Box data-testid="shortcut-hint" sx={{ mt: 4, fontSize: 0, color: 'fg.muted', display: 'flex', gap: 2, flexWrap: 'wrap', alignItems: 'center' }}>
        <span>Keyboard:</span>
        {SHORTCUTS.map(([k, d]) => (
          <span key={k}>
            <kbd>{k}</kbd> {d}
          </span>
        ))}
        {counts.all ? <CounterLabel>{fmtInt(counts.all)} total</CounterLabel> : null}
      </Box>
    </Box>
  );
}
