// The models page's rules, apart from React: provider presets, the form <->
// request body conversion, who may edit a model, and how prices, limits
// and costs read.
import type { AuthState } from './auth';
import type { Cost, ModelBody, ModelKind, ModelPrice, SavedModel, SeedEstimate } from '../types';

export const PROVIDERS = ['openai', 'anthropic', 'gemini', 'ollama'] as const;

export const PROVIDER_LABEL: Record<string, string> = {
  openai: 'OpenAI',
  anthropic: 'Anthropic',
  gemini: 'Gemini',
  ollama: 'Ollama',
};

// The usual endpoint of each provider, with the paths dgen's clients add
// when an endpoint has none (src/llm: openai.c, anthropic.c, gemini.c,
// ollama.c for chat; embed.c for embeddings). Anthropic has no embeddings
// API.
const CHAT_ENDPOINTS: Record<string, string> = {
  openai: 'https://api.openai.com/v1/chat/completions',
  anthropic: 'https://api.anthropic.com/v1/messages',
  gemini: 'https://generativelanguage.googleapis.com/v1beta/openai/chat/completions',
  ollama: 'http://localhost:11434/api/chat',
};
const EMBEDDING_ENDPOINTS: Record<string, string> = {
  openai: 'https://api.openai.com/v1/embeddings',
  gemini: 'https://generativelanguage.googleapis.com/v1beta/openai/embeddings',
  ollama: 'http://localhost:11434/api/embed',
};
const CHAT_MODELS: Record<string, string> = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-3-5-haiku-latest',
  gemini: 'gemini-2.0-flash',
  ollama: 'llama3',
};
const EMBEDDING_MODELS: Record<string, string> = {
  openai: 'text-embedding-3-small',
  gemini: 'text-embedding-004',
  ollama: 'nomic-embed-text',
};

export function providersFor(kind: ModelKind): string[] {
  return kind === 'embedding' ? PROVIDERS.filter((p) => p in EMBEDDING_ENDPOINTS) : [...PROVIDERS];
}

export function presetEndpoint(kind: ModelKind, provider: string): string {
  return (kind === 'embedding' ? EMBEDDING_ENDPOINTS : CHAT_ENDPOINTS)[provider] || '';
}

export function presetModelName(kind: ModelKind, provider: string): string {
  return (kind === 'embedding' ? EMBEDDING_MODELS : CHAT_MODELS)[provider] || '';
}

// The endpoint after choosing another provider: the new preset, unless the
// field holds an address of the user's own (a proxy, a local server).
export function endpointAfterProvider(kind: ModelKind, current: string, provider: string): string {
  const presets = Object.values(kind === 'embedding' ? EMBEDDING_ENDPOINTS : CHAT_ENDPOINTS);
  if (current.trim() === '' || presets.includes(current.trim())) return presetEndpoint(kind, provider) || current;
  return current;
}

// The dialog's fields, all as typed (strings), so a half-typed number is
// kept as it is until saved.
export interface ModelForm {
  name: string;
  provider: string;
  endpoint: string;
  model_name: string;
  api_key: string;
  remove_key: boolean;
  is_default: boolean;
  dimensions: string;
  max_in_flight: string;
  requests_per_minute: string;
  tokens_per_minute: string;
  price_input: string;
  price_output: string;
  price_cached: string;
  currency: string;
}

export function emptyForm(kind: ModelKind): ModelForm {
  return {
    name: '',
    provider: 'openai',
    endpoint: presetEndpoint(kind, 'openai'),
    model_name: '',
    api_key: '',
    remove_key: false,
    is_default: false,
    dimensions: '',
    max_in_flight: '',
    requests_per_minute: '',
    tokens_per_minute: '',
    price_input: '',
    price_output: '',
    price_cached: '',
    currency: 'USD',
  };
}

function numText(v: number | null | undefined): string {
  return v === null || v === undefined || v === 0 ? '' : String(v);
}

// A saved model in the dialog. The key field starts empty: the stored key
// never comes back from the server.
export function formOf(m: SavedModel): ModelForm {
  const p = m.price_per_mtok;
  return {
    name: m.name,
    provider: m.provider,
    endpoint: m.endpoint,
    model_name: m.model_name,
    api_key: '',
    remove_key: false,
    is_default: m.is_default,
    dimensions: numText(m.dimensions),
    max_in_flight: numText(m.max_in_flight),
    requests_per_minute: numText(m.requests_per_minute),
    tokens_per_minute: numText(m.tokens_per_minute),
    price_input: p ? String(p.input) : '',
    price_output: p ? String(p.output) : '',
    price_cached: p && p.cached ? String(p.cached) : '',
    currency: m.currency || 'USD',
  };
}

export type FormErrors = Partial<Record<keyof ModelForm, string>>;

const LIMITS = ['max_in_flight', 'requests_per_minute', 'tokens_per_minute'] as const;

function wholeNumber(s: string): number | null | undefined {
  const t = s.trim();
  if (t === '') return undefined;
  return /^\d{1,10}$/.test(t) && Number(t) <= 2147483647 ? Number(t) : null;
}

function amount(s: string): number | null | undefined {
  const t = s.trim();
  if (t === '') return undefined;
  const n = Number(t);
  return isFinite(n) && n >= 0 ? n : null;
}

// The dialog's fields -> the request body, or what is wrong with them.
// What only the server can judge (a URL's form, a name taken) is left to
// it: its 422 and 409 name the field. An empty key field sends no
// api_key, which keeps the stored key; "remove the key" sends "".
export function bodyOf(f: ModelForm, kind: ModelKind): { body: ModelBody } | { errors: FormErrors } {
  const errors: FormErrors = {};
  const body: ModelBody = {
    name: f.name.trim(),
    provider: f.provider,
    endpoint: f.endpoint.trim(),
    model_name: f.model_name.trim(),
    is_default: f.is_default,
  };
  if (!body.name) errors.name = 'Required';
  if (!body.endpoint) errors.endpoint = 'Required';
  if (!body.model_name) errors.model_name = 'Required';
  if (f.remove_key) body.api_key = '';
  else if (f.api_key !== '') body.api_key = f.api_key;
  if (kind === 'embedding') {
    const d = wholeNumber(f.dimensions);
    if (d === null || (d !== undefined && d > 65536)) errors.dimensions = 'A whole number from 0 to 65536';
    else if (d !== undefined) body.dimensions = d;
  }
  for (const k of LIMITS) {
    const n = wholeNumber(f[k]);
    if (n === null) errors[k] = 'A whole number, 0 or more (empty: no limit)';
    else if (n !== undefined && n > 0) body[k] = n;
  }
  const pin = amount(f.price_input);
  const pout = amount(f.price_output);
  const pc = amount(f.price_cached);
  if (pin === null) errors.price_input = 'A number, 0 or more';
  if (pout === null) errors.price_output = 'A number, 0 or more';
  if (pc === null) errors.price_cached = 'A number, 0 or more';
  const anyPrice = pin !== undefined || pout !== undefined || pc !== undefined;
  if (anyPrice && !errors.price_input && !errors.price_output && !errors.price_cached) {
    if (pin === undefined) errors.price_input = 'Needed with a price';
    if (pout === undefined) errors.price_output = 'Needed with a price';
    const cur = f.currency.trim();
    if (!cur || cur.length > 8) errors.currency = '1 to 8 characters, e.g. USD';
    if (pin !== undefined && pout !== undefined && !errors.currency) {
      const price: ModelPrice = { input: pin as number, output: pout as number };
      if (pc !== undefined) price.cached = pc as number;
      body.price_per_mtok = price;
      body.currency = cur;
    }
  }
  return Object.keys(errors).length ? { errors } : { body };
}

// The form field a server error names: "price_per_mtok.input" is the
// input price, "price_per_mtok" the whole price (shown by the input price).
export function formField(serverField: string | undefined): keyof ModelForm | undefined {
  if (!serverField) return undefined;
  const map: Record<string, keyof ModelForm> = {
    'price_per_mtok.input': 'price_input',
    'price_per_mtok.output': 'price_output',
    'price_per_mtok.cached': 'price_cached',
    price_per_mtok: 'price_input',
  };
  if (map[serverField]) return map[serverField];
  const direct: (keyof ModelForm)[] = ['name', 'provider', 'endpoint', 'model_name', 'api_key', 'dimensions', 'currency', ...LIMITS];
  return direct.find((k) => k === serverField);
}

// Whether the signed-in user may change a model. Admins change every
// model; on a server with members' own models (`scope`), a member changes
// their own; elsewhere models are global and only admins change them. A
// server without accounts leaves it to the server.
export function canEdit(m: SavedModel, auth: AuthState): boolean {
  if (auth.kind !== 'user') return auth.kind === 'off';
  if (auth.user.role === 'admin') return true;
  return m.scope === 'own';
}

export function keyText(m: SavedModel): string {
  return m.api_key_set ? `key ••••${m.api_key_last4 || ''}` : 'no key';
}

function compact(n: number): string {
  if (n >= 1e6 && n % 1e5 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 100 === 0) return `${n / 1e3}k`;
  return n.toLocaleString('en-US');
}

export function limitsText(m: SavedModel): string {
  const parts: string[] = [];
  if (m.max_in_flight) parts.push(`${compact(m.max_in_flight)} in flight`);
  if (m.requests_per_minute) parts.push(`${compact(m.requests_per_minute)} req/min`);
  if (m.tokens_per_minute) parts.push(`${compact(m.tokens_per_minute)} tokens/min`);
  return parts.length ? parts.join(' · ') : 'no limits';
}

export function priceText(m: SavedModel): string {
  const p = m.price_per_mtok;
  if (!p) return 'no price';
  const cur = m.currency || '';
  const cached = p.cached ? ` · cached ${p.cached}` : '';
  return `in ${p.input} · out ${p.output}${cached} ${cur} / 1M tokens`;
}

// "$0.0123" for dollars, "0.0123 EUR" for anything else; small amounts
// keep four decimals so a cheap job does not read as free.
export function fmtCost(c: Cost): string {
  const a = Number(c.amount);
  const digits = a !== 0 && Math.abs(a) < 1 ? 4 : 2;
  const text = a !== 0 && Math.abs(a) < 0.0001 ? a.toPrecision(2) : a.toFixed(digits);
  return c.currency === 'USD' ? `$${text}` : `${text} ${c.currency}`;
}

export function isCost(v: unknown): v is Cost {
  return !!v && typeof v === 'object' && typeof (v as Cost).amount === 'number' && typeof (v as Cost).currency === 'string';
}

// A job's current step: a number is the block's step, text is the runner
// saying what it waits for ("rate limited, retrying in 4s").
export function stepText(step: string | number | null | undefined): { text: string; waiting: boolean } | null {
  if (step === null || step === undefined || step === '') return null;
  if (typeof step === 'number' || /^\d+$/.test(step)) return { text: `step ${step}`, waiting: false };
  return { text: step, waiting: /^rate limited/i.test(step) };
}

function count(n: number | undefined, one: string, many: string): string | null {
  if (typeof n !== 'number' || !isFinite(n)) return null;
  return `${Math.round(n).toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

// "≈ 12 executions, 24 LLM calls, up to 48,000 tokens, up to $0.0120" (or
// "cost unknown" when a model has no price); parts the server left out are
// left out.
export function estimateText(e: SeedEstimate): string {
  const parts = [count(e.executions, 'execution', 'executions'), count(e.llm_calls, 'LLM call', 'LLM calls')];
  if (typeof e.max_tokens === 'number') parts.push(`up to ${Math.round(e.max_tokens).toLocaleString('en-US')} tokens`);
  if (e.cost === null) parts.push('cost unknown');
  else if (isCost(e.cost)) parts.push(`up to ${fmtCost(e.cost)}`);
  const text = parts.filter((x) => x).join(', ');
  return text ? `≈ ${text}` : '';
}
