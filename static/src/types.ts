// Shapes of the JSON the dgen HTTP API returns (see SPEC.md §4).

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export interface SchemaProperty {
  type?: string | string[];
  default?: Json;
  enum?: Json[];
  description?: string;
  isFieldReference?: boolean;
  items?: { type?: string | string[] };
  format?: string;
  minimum?: number;
  maximum?: number;
}

export interface ConfigSchema {
  type?: string;
  required?: string[];
  properties?: Record<string, SchemaProperty>;
}

export interface BlockInfo {
  type: string;
  name: string;
  description: string;
  category: string;
  inputs: string[];
  outputs: string[];
  is_multiplier: boolean;
  config_schema: ConfigSchema;
}

export interface TemplateInfo {
  id: string;
  name: string;
  description: string;
  example_seed?: Json;
}

export interface BlockDef {
  type: string;
  config: JsonObject;
}

export interface Constraints {
  max_total_tokens?: number;
  max_total_input_tokens?: number;
  max_total_output_tokens?: number;
  max_total_cached_tokens?: number;
  max_total_execution_time?: number;
}

export interface PipelineDef {
  name: string;
  blocks: BlockDef[];
  constraints?: Constraints;
}

export interface FieldOrder {
  primary: string[];
  secondary: string[];
  hidden: string[];
}

export interface Pipeline {
  id: string;
  name: string;
  definition: PipelineDef;
  created_at: string;
  updated_at: string;
  first_block_is_multiplier?: boolean;
  validation_config?: { field_order?: Partial<FieldOrder> } | null;
}

export interface TraceEntry {
  block_type: string;
  input?: Json;
  output?: Json;
  accumulated_state?: Json;
  execution_time?: number;
  error?: string;
}

export interface Usage {
  input_tokens?: number;
  output_tokens?: number;
  cached_tokens?: number;
}

export interface ExecuteOne {
  result: JsonObject;
  trace: TraceEntry[];
  trace_id: string;
  usage?: Usage;
}

export interface ExecuteResponse extends Partial<ExecuteOne> {
  results?: ExecuteOne[];
}

export type JobStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'stopped';

// An amount of money as the server prices it (job usage, estimates).
export interface Cost {
  amount: number;
  currency: string;
}

export interface JobUsage {
  total_tokens?: number;
  total_input_tokens?: number;
  total_output_tokens?: number;
  total_cached_tokens?: number;
  start_time?: string | null;
  end_time?: string | null;
  // Absent: the server does not price jobs; null: a model without a price.
  cost?: Cost | null;
}

export interface Job {
  id: string;
  pipeline_id: string;
  status: JobStatus;
  total_seeds: number;
  current_seed: number;
  records_generated: number;
  records_failed: number;
  progress: number;
  current_block?: string | null;
  current_step?: string | number | null;
  error?: string | null;
  usage?: JobUsage | null;
  created_at: string;
  started_at?: string | null;
  completed_at?: string | null;
}

export interface Failure {
  seed_index: number;
  repetition: number;
  block_type?: string | null;
  step?: number | null;
  error: string;
  trace?: TraceEntry[] | null;
}

export type RecordStatus = 'pending' | 'accepted' | 'rejected' | 'edited';

export interface DataRecord {
  id: string;
  output: string;
  metadata: JsonObject;
  status: RecordStatus;
  trace?: TraceEntry[] | null;
  trace_id?: string;
  job_id: string;
  pipeline_id: string;
  created_at: string;
  updated_at: string;
}

export interface Health {
  status: string;
  database?: string;
  runner?: { alive: boolean; last_seen?: string | null };
  // Request size limits of the server, in bytes.
  limits?: { max_body?: number; max_upload?: number };
}

export interface RecordPage {
  records: DataRecord[];
  total: number; // every record matching the filter (X-Total-Count)
}

export interface HistogramBin {
  from: number;
  to: number;
  count: number;
}

export interface FieldStats {
  count: number;
  min: number;
  max: number;
  mean: number;
  histogram?: HistogramBin[];
}

// GET /api/records/stats: total matches the whole filter, by_status every
// criterion but the status.
export interface RecordStats {
  total: number;
  by_status: Partial<Record<RecordStatus, number>>;
  fields: Record<string, FieldStats>;
}

// What a seed file would cost at most (absent on servers that do not say).
export interface SeedEstimate {
  executions?: number;
  llm_calls?: number;
  max_tokens?: number;
  cost?: Cost | null;
}

export interface SeedValidation {
  valid: boolean;
  errors: Json[];
  warnings: Json[];
  estimate?: SeedEstimate | null;
}

// Saved LLM and embedding models (SPEC §9, /api/llm-models and
// /api/embedding-models). The key is write-only: answers carry whether one
// is stored and its last 4 characters.
export type ModelKind = 'llm' | 'embedding';
export type Provider = 'openai' | 'anthropic' | 'gemini' | 'ollama';

export interface ModelPrice {
  input: number;
  output: number;
  cached?: number;
}

export interface SavedModel {
  name: string;
  provider: Provider | string;
  endpoint: string;
  model_name: string;
  is_default: boolean;
  dimensions?: number;
  max_in_flight?: number | null;
  requests_per_minute?: number | null;
  tokens_per_minute?: number | null;
  price_per_mtok?: ModelPrice | null;
  currency?: string | null;
  api_key_set: boolean;
  api_key_last4?: string | null;
  // Servers with members' own models say whose a model is.
  scope?: 'global' | 'own';
  owner?: string | null;
}

// What POST, PUT and test take: no api_key keeps the stored one (PUT,
// test), "" removes it.
export interface ModelBody {
  name: string;
  provider: string;
  endpoint: string;
  model_name: string;
  is_default?: boolean;
  dimensions?: number;
  max_in_flight?: number;
  requests_per_minute?: number;
  tokens_per_minute?: number;
  price_per_mtok?: ModelPrice;
  currency?: string;
  api_key?: string;
}

export interface ModelTestResult {
  success: boolean;
  message: string;
  latency_ms: number;
}

// Accounts (SPEC §8). Quotas are a flat object of numbers whose keys the
// server names; the UI shows whatever keys it gets.
export type Role = 'admin' | 'member';
export type Quotas = Record<string, number | null>;

export interface AuthUser {
  name: string;
  role: Role;
}

export interface Me extends AuthUser {
  quotas?: Quotas;
}

export interface UserInfo extends AuthUser {
  disabled: boolean;
  created_at?: string;
  quotas?: Quotas;
}

export interface UserUpdate {
  role?: Role;
  disabled?: boolean;
  password?: string;
  quotas?: Quotas;
}

export interface Token {
  id: string;
  name: string;
  user?: string;
  created_at?: string;
  last_used_at?: string | null;
  expires_at?: string | null;
}

export interface NewToken {
  id: string;
  name: string;
  token: string;
}
