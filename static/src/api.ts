// Thin typed client for the dgen HTTP API. Every URL is relative so the UI
// works behind any prefix-less nginx vhost; errors keep the server's
// {error, detail} so pages can point at the offending field.
import type {
  AuthUser, Me, NewToken, Token, UserInfo, UserUpdate, BlockInfo, DataRecord, ExecuteResponse, Failure, FieldOrder, Health, Job, JobStatus,
  Json, JsonObject, ModelBody, ModelKind, ModelTestResult, SavedModel, Pipeline, PipelineDef, RecordPage, RecordStats, RecordStatus, SeedValidation, TemplateInfo,
} from './types';

export class ApiError extends Error {
  status: number;
  detail: JsonObject;
  // Seconds from a Retry-After header (429), else null.
  retryAfter: number | null;
  constructor(status: number, message: string, detail: JsonObject, retryAfter: number | null = null) {
    super(message);
    this.status = status;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }
  get field(): string | undefined {
    const f = this.detail?.field;
    return typeof f === 'string' ? f : undefined;
  }
}

// Listeners told when a request cannot reach the API at all (network
// error, or the proxy answering 502/503/504 without the API's JSON), and
// when one gets through again. The app shows one "cannot reach the server"
// state instead of every page failing on its own.
type ReachListener = (reachable: boolean) => void;
const reachListeners = new Set<ReachListener>();
export function onReachability(fn: ReachListener): () => void {
  reachListeners.add(fn);
  return () => {
    reachListeners.delete(fn);
  };
}
function tellReach(ok: boolean) {
  for (const fn of reachListeners) fn(ok);
}
export const UNREACHABLE = 'The server cannot be reached. Check that dgen is running.';

// Per-request options: an AbortSignal (a superseded request is cancelled,
// and its AbortError is no sign of an unreachable server), and a look at
// the response headers (X-Total-Count).
interface RequestOpts {
  signal?: AbortSignal;
  onHeaders?: (h: Headers) => void;
  quiet401?: boolean; // a 401 is an expected answer, not a lost session
}

// Listeners told when the server answers 401 to an ordinary request: the
// session is gone (logged out elsewhere, expired, user disabled). The app
// sends the user to the login page. Login itself and the "who am I" probe
// answer 401 as a normal outcome and do not tell.
type UnauthorizedListener = () => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();
export function onUnauthorized(fn: UnauthorizedListener): () => void {
  unauthorizedListeners.add(fn);
  return () => {
    unauthorizedListeners.delete(fn);
  };
}

// The headers of every request. The session cookie goes along by itself
// (same origin); X-Requested-With is what the server asks of a
// cookie-carried state-changing request so another site cannot forge one
// (a cross-site form cannot set it). It goes on reads too: harmless, and no
// request can forget it.
export function requestHeaders(extra?: Record<string, string>): Record<string, string> {
  return { Accept: 'application/json', 'X-Requested-With': 'dgen', ...(extra || {}) };
}

// Retry-After in seconds (the HTTP-date form is not used by dgen).
export function parseRetryAfter(v: string | null | undefined): number | null {
  if (!v) return null;
  const n = Number(v.trim());
  return Number.isFinite(n) && n >= 0 ? Math.ceil(n) : null;
}

export function isAbort(e: unknown): boolean {
  return !!e && typeof e === 'object' && (e as { name?: unknown }).name === 'AbortError';
}

async function request<T>(method: string, url: string, body?: unknown, headers?: Record<string, string>, opts?: RequestOpts): Promise<T> {
  const init: RequestInit = { method, headers: requestHeaders(headers), credentials: 'same-origin', signal: opts?.signal };
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    if (isAbort(e)) throw e;
    tellReach(false);
    throw new ApiError(0, UNREACHABLE, {});
  }
  const text = await res.text();
  opts?.onHeaders?.(res.headers);
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  const gateway = res.status === 502 || res.status === 503 || res.status === 504;
  if (gateway && (data === undefined || data === null || typeof data !== 'object')) {
    tellReach(false);
    throw new ApiError(0, UNREACHABLE, {});
  }
  tellReach(true);
  if (!res.ok) {
    const obj = (data && typeof data === 'object' ? data : {}) as { error?: unknown; detail?: unknown };
    const msg = typeof obj.error === 'string' ? obj.error : `Request failed with status ${res.status}`;
    const detail = (obj.detail && typeof obj.detail === 'object' && !Array.isArray(obj.detail) ? obj.detail : {}) as JsonObject;
    if (res.status === 401 && !opts?.quiet401) for (const fn of unauthorizedListeners) fn();
    throw new ApiError(res.status, msg, detail, parseRetryAfter(res.headers.get('Retry-After')));
  }
  return data as T;
}

// The server numbers its pipelines, jobs and records; the UI keeps every id
// as a string (URLs, data attributes, comparisons), so ids are converted
// once, here.
const ID_KEYS = ['id', 'pipeline_id', 'job_id'];
export function normIds<T>(v: T): T {
  if (Array.isArray(v)) return v.map((x) => normIds(x)) as unknown as T;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    for (const k of ID_KEYS) if (typeof o[k] === 'number') o[k] = String(o[k]);
  }
  return v;
}

// An id going back into a JSON body takes the server's type again.
export function idValue(id: string): string | number {
  return /^[1-9][0-9]{0,15}$/.test(id) ? Number(id) : id;
}

function qs(params: Record<string, string | number | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

function modelsPath(kind: ModelKind): string {
  return kind === 'embedding' ? '/api/embedding-models' : '/api/llm-models';
}

export const api = {
  health: () => request<Health>('GET', '/api/health'),
  // Accounts (SPEC §8).
  login: (name: string, password: string) =>
    request<{ user: AuthUser }>('POST', '/api/auth/login', { name, password }, undefined, { quiet401: true }),
  logout: () => request<{ success: boolean }>('POST', '/api/auth/logout', undefined, undefined, { quiet401: true }),
  me: () => request<Me>('GET', '/api/auth/me', undefined, undefined, { quiet401: true }),
  users: () => request<UserInfo[]>('GET', '/api/users'),
  createUser: (name: string, password: string, role: string) => request<UserInfo>('POST', '/api/users', { name, password, role }),
  updateUser: (name: string, body: UserUpdate) => request<UserInfo>('PUT', `/api/users/${encodeURIComponent(name)}`, body),
  tokens: (user?: string) => request<Token[]>('GET', `/api/tokens${qs({ user })}`).then(normIds),
  createToken: (name: string, expiresInDays?: number | null, user?: string) => {
    const body: JsonObject = { name };
    if (expiresInDays) body.expires_in_days = expiresInDays;
    if (user) body.user = user;
    return request<NewToken>('POST', '/api/tokens', body).then(normIds);
  },
  revokeToken: (id: string) => request<{ success: boolean }>('DELETE', `/api/tokens/${encodeURIComponent(id)}`),
  blocks: () => request<BlockInfo[]>('GET', '/api/blocks'),
  // Saved models of one kind (SPEC §9).
  models: (kind: ModelKind) => request<SavedModel[]>('GET', modelsPath(kind)),
  createModel: (kind: ModelKind, body: ModelBody) => request<SavedModel>('POST', modelsPath(kind), body),
  updateModel: (kind: ModelKind, name: string, body: ModelBody) =>
    request<SavedModel>('PUT', `${modelsPath(kind)}/${encodeURIComponent(name)}`, body),
  deleteModel: (kind: ModelKind, name: string) => request<{ success: boolean }>('DELETE', `${modelsPath(kind)}/${encodeURIComponent(name)}`),
  testModel: (kind: ModelKind, body: ModelBody) => request<ModelTestResult>('POST', `${modelsPath(kind)}/test`, body),
  templates: () => request<TemplateInfo[]>('GET', '/api/templates'),
  fromTemplate: async (id: string) =>
    normIds(await request<{ id: string; name: string; template_id: string }>('POST', `/api/pipelines/from_template/${encodeURIComponent(id)}`)),
  pipelines: async () => normIds(await request<Pipeline[]>('GET', '/api/pipelines')),
  pipeline: async (id: string) => normIds(await request<Pipeline>('GET', `/api/pipelines/${encodeURIComponent(id)}`)),
  createPipeline: async (def: PipelineDef) => normIds(await request<{ id: string; name: string }>('POST', '/api/pipelines', def)),
  updatePipeline: async (id: string, def: PipelineDef) =>
    normIds(await request<{ id: string; name: string }>('PUT', `/api/pipelines/${encodeURIComponent(id)}`, def)),
  deletePipeline: (id: string) => request<{ success: boolean }>('DELETE', `/api/pipelines/${encodeURIComponent(id)}`),
  execute: (id: string, state: Json) =>
    request<ExecuteResponse>('POST', `/api/pipelines/${encodeURIComponent(id)}/execute`, state),
  setValidationConfig: (id: string, fieldOrder: FieldOrder) =>
    request<{ success: boolean }>('PUT', `/api/pipelines/${encodeURIComponent(id)}/validation_config`, { field_order: fieldOrder }),
  validateSeeds: (pipelineId: string, seeds: Json) =>
    request<SeedValidation>('POST', '/api/seeds/validate', { pipeline_id: idValue(pipelineId), seeds }),
  generate: (pipelineId: string, file: File, idempotencyKey: string) => {
    const fd = new FormData();
    fd.append('pipeline_id', pipelineId);
    fd.append('file', file, file.name);
    return request<{ job_id: string }>('POST', '/api/generate', fd, { 'Idempotency-Key': idempotencyKey }).then(normIds);
  },
  jobs: (params: { pipeline_id?: string; status?: JobStatus | ''; limit?: number }) =>
    request<Job[]>('GET', `/api/jobs${qs(params)}`).then(normIds),
  job: (id: string) => request<Job>('GET', `/api/jobs/${encodeURIComponent(id)}`).then(normIds),
  cancelJob: (id: string) => request<{ message: string }>('DELETE', `/api/jobs/${encodeURIComponent(id)}`),
  failures: (id: string) => request<Failure[]>('GET', `/api/jobs/${encodeURIComponent(id)}/failures`),
  retryFailed: (id: string) => request<{ job_id: string }>('POST', `/api/jobs/${encodeURIComponent(id)}/retry_failed`).then(normIds),
  records: (params: { status?: string; job_id?: string; pipeline_id?: string; limit?: number; offset?: number }) =>
    request<DataRecord[]>('GET', `/api/records${qs(params)}`).then(normIds),
  updateRecord: (id: string, body: JsonObject) =>
    request<{ success: boolean }>('PUT', `/api/records/${encodeURIComponent(id)}`, body),
  deleteRecords: (jobId: string) => request<{ deleted: number }>('DELETE', `/api/records${qs({ job_id: jobId })}`),
  exportUrl: (params: Record<string, string>) => `/api/export/download${qs(params)}`,
  // One page of records and how many match in all (X-Total-Count). params
  // are a record filter's query (review/query.ts) plus sort, limit, offset.
  recordsPage: async (params: Record<string, string | number>, signal?: AbortSignal): Promise<RecordPage> => {
    let total = NaN;
    const records = await request<DataRecord[]>('GET', `/api/records${qs(params)}`, undefined, undefined, {
      signal,
      onHeaders: (h) => {
        total = Number(h.get('X-Total-Count'));
      },
    });
    const list = normIds(records);
    return { records: list, total: Number.isFinite(total) ? total : list.length };
  },
  recordStats: (params: Record<string, string>, signal?: AbortSignal) =>
    request<RecordStats>('GET', `/api/records/stats${qs(params)}`, undefined, undefined, { signal }),
  bulkStatus: (filter: JsonObject, status: RecordStatus) =>
    request<{ updated: number }>('POST', '/api/records/bulk', { filter, set: { status } }),
};

// A random v4 UUID without requiring a secure context (crypto.randomUUID is
// missing on plain-http origins other than localhost).
export function uuid4(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
