// Pure pipeline-builder logic, kept apart from React so it can be unit
// tested: the block order implied by the edges, the fields each block can
// reference, turning form values into a block config and back, client-side
// checks, and mapping a server field path onto a node.
import type { BlockInfo, ConfigSchema, Constraints, Json, JsonObject, PipelineDef, SchemaProperty, TemplateInfo } from '../types';

export const START_ID = 'start';
export const END_ID = 'end';

export interface SimpleEdge {
  source: string;
  target: string;
}

export interface Chain {
  order: string[]; // block node ids from Start, in edge order
  reachesEnd: boolean;
  unconnected: string[]; // block node ids not on the Start chain
}

// Follows the single outgoing edge of each node from Start. Pipelines are
// linear, so the order of the blocks is the order of this walk.
export function chainFrom(blockIds: string[], edges: SimpleEdge[]): Chain {
  const next = new Map<string, string>();
  for (const e of edges) if (!next.has(e.source)) next.set(e.source, e.target);
  const order: string[] = [];
  const seen = new Set<string>([START_ID]);
  let cur = next.get(START_ID);
  let reachesEnd = false;
  while (cur !== undefined && !seen.has(cur)) {
    if (cur === END_ID) {
      reachesEnd = true;
      break;
    }
    seen.add(cur);
    order.push(cur);
    cur = next.get(cur);
  }
  const onChain = new Set(order);
  return { order, reachesEnd, unconnected: blockIds.filter((id) => !onChain.has(id)) };
}

// True when adding source->target would close a loop.
export function createsCycle(edges: SimpleEdge[], source: string, target: string): boolean {
  if (source === target) return true;
  const next = new Map<string, string[]>();
  for (const e of edges) {
    if (!next.has(e.source)) next.set(e.source, []);
    next.get(e.source)!.push(e.target);
  }
  const stack = [target];
  const seen = new Set<string>();
  while (stack.length) {
    const n = stack.pop()!;
    if (n === source) return true;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const m of next.get(n) || []) stack.push(m);
  }
  return false;
}

export function propTypes(p: SchemaProperty): string[] {
  if (!p.type) return [];
  return Array.isArray(p.type) ? p.type : [p.type];
}

export type EditorKind = 'boolean' | 'enum' | 'number' | 'integer' | 'field' | 'code' | 'json' | 'list' | 'text';

// Chooses the form control for one config property from its schema alone.
export function editorKind(name: string, p: SchemaProperty): EditorKind {
  const t = propTypes(p);
  if (p.isFieldReference) return 'field';
  if (p.enum && p.enum.length) return 'enum';
  if (t.includes('boolean')) return 'boolean';
  if (t.includes('object')) return 'json';
  if (t.includes('array')) return 'list';
  // A number that may also be a Jinja template ("{{ target_count }}"): a
  // number input would show the template as empty and refuse it.
  if ((t.includes('integer') || t.includes('number')) && t.includes('string')) return 'text';
  if (t.includes('integer')) return 'integer';
  if (t.includes('number')) return 'number';
  if (p.format === 'prompt' || /prompt$/.test(name)) return 'code';
  return 'text';
}

export type FormValues = Record<string, string | boolean>;

function textOf(v: Json | undefined): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

// Config (JSON) -> form values, filling schema defaults for unset keys.
export function toForm(config: JsonObject, schema: ConfigSchema): FormValues {
  const out: FormValues = {};
  for (const [name, p] of Object.entries(schema.properties || {})) {
    const has = Object.prototype.hasOwnProperty.call(config, name);
    const v = has ? config[name] : p.default;
    const kind = editorKind(name, p);
    switch (kind) {
      case 'boolean':
        out[name] = v === true;
        break;
      case 'list':
        out[name] = Array.isArray(v) ? v.map((x) => textOf(x)).join('\n') : textOf(v);
        break;
      case 'json':
        out[name] = v !== null && typeof v === 'object' ? JSON.stringify(v, null, 2) : textOf(v);
        break;
      case 'enum':
        // "" names the default where the enum has no "" of its own (a
        // block's model).
        out[name] = v === undefined || v === null || (v === '' && !(p.enum || []).includes('')) ? '' : JSON.stringify(v);
        break;
      default:
        out[name] = textOf(v);
    }
  }
  return out;
}

export interface ConvertResult {
  config: JsonObject;
  errors: Record<string, string>;
}

// Form values -> config JSON. Empty optional fields are left out so the
// server applies its defaults; type problems become per-field messages.
export function fromForm(values: FormValues, schema: ConfigSchema, extra: JsonObject = {}): ConvertResult {
  const config: JsonObject = { ...extra };
  const errors: Record<string, string> = {};
  const required = new Set(schema.required || []);
  for (const [name, p] of Object.entries(schema.properties || {})) {
    const raw = values[name];
    const kind = editorKind(name, p);
    const types = propTypes(p);
    if (kind === 'boolean') {
      config[name] = raw === true;
      continue;
    }
    const s = typeof raw === 'string' ? raw : '';
    const numeric = types.includes('integer') || types.includes('number');
    if (s.trim() === '') {
      if (required.has(name)) errors[name] = 'Required';
      else if (kind === 'code' || (kind === 'text' && !numeric && types.includes('string') && !types.includes('null') && p.default !== null && p.default !== undefined)) {
        config[name] = s;
      }
      continue;
    }
    switch (kind) {
      case 'enum': {
        try {
          config[name] = JSON.parse(s) as Json;
        } catch {
          config[name] = s;
        }
        if (p.enum && !p.enum.some((e) => JSON.stringify(e) === JSON.stringify(config[name]))) {
          errors[name] = `Must be one of ${p.enum.map((e) => textOf(e)).join(', ')}`;
        }
        break;
      }
      case 'integer':
      case 'number': {
        const n = Number(s);
        if (!isFinite(n) || s.trim() === '') errors[name] = 'Must be a number';
        else if (kind === 'integer' && !Number.isInteger(n)) errors[name] = 'Must be a whole number';
        else if (p.minimum !== undefined && n < p.minimum) errors[name] = `Must be at least ${p.minimum}`;
        else if (p.maximum !== undefined && n > p.maximum) errors[name] = `Must be at most ${p.maximum}`;
        else config[name] = n;
        break;
      }
      case 'list': {
        const items = s.split('\n').map((x) => x.trim()).filter((x) => x !== '');
        const it = propTypes(p.items || {});
        if (it.includes('number') || it.includes('integer')) {
          const nums = items.map(Number);
          if (nums.some((n) => !isFinite(n))) errors[name] = 'Each line must be a number';
          else config[name] = nums;
        } else {
          config[name] = items;
        }
        break;
      }
      case 'json': {
        let parsed: unknown;
        let ok = false;
        try {
          parsed = JSON.parse(s);
          ok = true;
        } catch {
          ok = false;
        }
        if (ok && parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
          config[name] = parsed as JsonObject;
        } else if (types.includes('string')) {
          // A string here is a template that must render to JSON at run time.
          config[name] = s;
        } else {
          errors[name] = 'Must be a JSON object';
        }
        break;
      }
      default:
        // A number-or-template field keeps a plain number a number.
        config[name] = numeric && isFinite(Number(s)) ? Number(s) : s;
    }
  }
  return { config, errors };
}

// Required parameters that have no value: the "not configured" badge.
export function missingRequired(values: FormValues, schema: ConfigSchema): string[] {
  const props = schema.properties || {};
  return (schema.required || []).filter((name) => {
    const v = values[name];
    if (props[name] && editorKind(name, props[name]) === 'boolean') return false;
    return v === undefined || (typeof v === 'string' && v.trim() === '');
  });
}

// Template variables a prompt uses ({{ x }}, {{ x.y }}, {% if x %}), as a
// hint for which seed fields a pipeline expects.
export function templateVars(text: string): string[] {
  const out = new Set<string>();
  const re = /\{\{-?\s*([A-Za-z_][A-Za-z0-9_]*)|\{%-?\s*(?:if|elif|for\s+[A-Za-z_][A-Za-z0-9_]*\s+in)\s+([A-Za-z_][A-Za-z0-9_]*)/g;
  let m: RegExpExecArray | null;
  const reserved = new Set(['loop', 'true', 'false', 'none', 'not', 'True', 'False', 'None']);
  while ((m = re.exec(text)) !== null) {
    const v = m[1] || m[2];
    if (v && !reserved.has(v)) out.add(v);
  }
  return [...out];
}

// Fields a block at position `index` can reference: the seed's metadata
// keys, then the outputs of every earlier block. A multiplier replaces the
// state with its own outputs, so fields before it disappear.
export function availableFields(types: string[], index: number, seedKeys: string[], infos: Map<string, BlockInfo>): string[] {
  let fields: string[] = [...seedKeys];
  for (let i = 0; i < index && i < types.length; i++) {
    const info = infos.get(types[i]);
    if (!info) continue;
    const outs = info.outputs.filter((o) => o !== '*');
    if (info.is_multiplier) fields = [...outs];
    else for (const o of outs) if (!fields.includes(o)) fields.push(o);
  }
  return fields;
}

export interface FieldPath {
  blockIndex?: number;
  configKey?: string;
  constraint?: string;
  top?: string;
}

// "blocks[1].config.rouge_type" -> {blockIndex: 1, configKey: "rouge_type"}
export function parseFieldPath(field: string | undefined): FieldPath | null {
  if (!field) return null;
  let m = /^blocks\[(\d+)\](?:\.config\.([A-Za-z0-9_]+))?/.exec(field);
  if (m) return m[2] ? { blockIndex: Number(m[1]), configKey: m[2] } : { blockIndex: Number(m[1]) };
  m = /^constraints\.([A-Za-z0-9_]+)/.exec(field);
  if (m) return { constraint: m[1] };
  return { top: field.split(/[.[]/)[0] };
}

export const CONSTRAINT_KEYS: { key: keyof Constraints; label: string; unit?: string }[] = [
  { key: 'max_total_tokens', label: 'Max total tokens' },
  { key: 'max_total_input_tokens', label: 'Max input tokens' },
  { key: 'max_total_output_tokens', label: 'Max output tokens' },
  { key: 'max_total_cached_tokens', label: 'Max cached tokens' },
  { key: 'max_total_execution_time', label: 'Max execution time', unit: 'seconds' },
];

// Constraint inputs (text, "" or -1 = unlimited) -> constraints object.
export function constraintsFromForm(values: Record<string, string>): { constraints: Constraints; errors: Record<string, string> } {
  const constraints: Constraints = {};
  const errors: Record<string, string> = {};
  for (const { key } of CONSTRAINT_KEYS) {
    const s = (values[key] ?? '').trim();
    if (s === '') continue;
    const n = Number(s);
    if (!isFinite(n)) errors[key] = 'Must be a number';
    else if (n < 0 && n !== -1) errors[key] = 'Use -1 for unlimited, or a positive number';
    else if (key !== 'max_total_execution_time' && !Number.isInteger(n)) errors[key] = 'Must be a whole number';
    else if (n !== -1) constraints[key] = n;
  }
  return { constraints, errors };
}

export interface XY {
  x: number;
  y: number;
}

// Left-to-right layout: Start, the chain in order, End; blocks that are
// not connected on a row below. With `perRow` the chain wraps into rows of
// that many nodes (Start and End count), so a long pipeline stays readable
// in a narrow canvas instead of being zoomed out to a thin strip.
export function layout(order: string[], unconnected: string[], spacing = 260, perRow = Infinity): Record<string, XY> {
  const pos: Record<string, XY> = {};
  const row = Math.max(2, perRow);
  const rowGap = 170;
  const seq = [START_ID, ...order, END_ID];
  seq.forEach((id, i) => {
    const r = Math.floor(i / row);
    const c = i % row;
    const endpoint = id === START_ID || id === END_ID;
    pos[id] = { x: c * spacing, y: r * rowGap + (endpoint ? 120 : 100) };
  });
  const rows = Math.ceil(seq.length / row);
  unconnected.forEach((id, i) => {
    pos[id] = { x: (i + 1) * spacing, y: (rows - 1) * rowGap + 300 };
  });
  return pos;
}

// How many nodes fit side by side in a canvas this wide at a zoom that
// keeps node text readable.
export function nodesPerRow(canvasWidth: number, spacing = 260): number {
  return Math.max(2, Math.floor((canvasWidth - 40) / spacing));
}

// --- graph <-> definition -------------------------------------------------

export interface GraphBlock {
  id: string;
  blockType: string;
  values: FormValues;
  extra: JsonObject;
}

export interface GraphEdge extends SimpleEdge {
  id: string;
}

// A saved definition -> block nodes n1..nN chained Start -> ... -> End.
// Config keys the schema does not know are kept aside (extra) and written
// back unchanged.
export function graphFromDefinition(def: PipelineDef | undefined, infos: Map<string, BlockInfo>): { blocks: GraphBlock[]; edges: GraphEdge[] } {
  const blocks: GraphBlock[] = [];
  const edges: GraphEdge[] = [];
  let prev = START_ID;
  (def?.blocks || []).forEach((blk, i) => {
    const id = `n${i + 1}`;
    const schema = infos.get(blk.type)?.config_schema || {};
    const known = new Set(Object.keys(schema.properties || {}));
    const extra: JsonObject = {};
    for (const [k, v] of Object.entries(blk.config || {})) if (!known.has(k)) extra[k] = v;
    blocks.push({ id, blockType: blk.type, values: toForm(blk.config || {}, schema), extra });
    edges.push({ id: `e-${prev}-${id}`, source: prev, target: id });
    prev = id;
  });
  edges.push({ id: `e-${prev}-${END_ID}`, source: prev, target: END_ID });
  return { blocks, edges };
}

export interface PipelineCheck {
  messages: string[]; // what stops a save, in human words (blocks counted from 1)
  definition: PipelineDef | null; // the definition to send when there is nothing to say
}

// Everything the builder checks before saving, and the definition it
// saves: the blocks in edge order with their form values turned into
// config. Recomputed on every change, so a banner never says something that
// is no longer true.
export function checkPipeline(
  name: string,
  blocks: GraphBlock[],
  edges: SimpleEdge[],
  infos: Map<string, BlockInfo>,
  constraintValues: Record<string, string>,
): PipelineCheck {
  const msgs: string[] = [];
  const byId = new Map(blocks.map((b) => [b.id, b]));
  const chain = chainFrom(blocks.map((b) => b.id), edges);
  const label = (id: string) => {
    const b = byId.get(id)!;
    const pos = chain.order.indexOf(id);
    return `${pos >= 0 ? `Block ${pos + 1}` : 'Block'} (${infos.get(b.blockType)?.name || b.blockType})`;
  };
  if (!name.trim()) msgs.push('Give the pipeline a name.');
  if (blocks.length === 0) msgs.push('Add at least one block: drag one from the palette onto the canvas.');
  else if (chain.order.length === 0) msgs.push('Connect Start to the first block.');
  for (const id of chain.unconnected) msgs.push(`${label(id)} is not connected: link it between Start and End, or delete it.`);
  if (chain.order.length > 0 && !chain.reachesEnd) msgs.push('Connect the last block to End.');
  const configs: JsonObject[] = [];
  chain.order.forEach((id) => {
    const b = byId.get(id)!;
    const info = infos.get(b.blockType);
    const schema = info?.config_schema || {};
    const { config, errors } = fromForm(b.values, schema, b.extra);
    const missing = missingRequired(b.values, schema);
    if (!info) msgs.push(`${label(id)}: unknown block type.`);
    for (const k of missing) msgs.push(`${label(id)}: “${k}” is required.`);
    for (const [k, m] of Object.entries(errors)) if (!missing.includes(k)) msgs.push(`${label(id)}: ${k}: ${m}`);
    configs.push(config);
  });
  const { constraints, errors: cErrors } = constraintsFromForm(constraintValues);
  for (const [k, m] of Object.entries(cErrors)) msgs.push(`Constraint ${k}: ${m}`);
  if (msgs.length) return { messages: msgs, definition: null };
  return {
    messages: [],
    definition: { name: name.trim(), blocks: chain.order.map((id, i) => ({ type: byId.get(id)!.blockType, config: configs[i] })), constraints },
  };
}

// --- try-it example seeds -------------------------------------------------

// The try-it input a template's example seed gives: the metadata of its
// first seed, or for a markdown seed the document as file_content (what a
// multiplier reads).
export function exampleInput(t: TemplateInfo): string | null {
  const s = t.example_seed;
  if (s === undefined || s === null) return null;
  if (typeof s === 'string') {
    try {
      const parsed = JSON.parse(s) as Json;
      return exampleInput({ ...t, example_seed: parsed });
    } catch {
      return JSON.stringify({ file_content: s }, null, 2);
    }
  }
  const first = Array.isArray(s) ? s[0] : s;
  if (first && typeof first === 'object' && !Array.isArray(first)) {
    const meta = (first as JsonObject).metadata;
    if (meta && typeof meta === 'object' && !Array.isArray(meta)) return JSON.stringify(meta, null, 2);
  }
  return null;
}

// The example that fits a pipeline best: the template it was made from
// (same name), else one whose seed has the same shape (markdown for a
// pipeline starting with a multiplier, JSON seeds otherwise).
export function pickExample(templates: TemplateInfo[], pipelineName: string, multiplier: boolean): TemplateInfo | null {
  const usable = templates.filter((t) => exampleInput(t) !== null);
  const same = usable.find((t) => t.name === pipelineName);
  if (same) return same;
  const md = (t: TemplateInfo) => exampleInput(t)!.includes('"file_content"');
  return usable.find((t) => md(t) === multiplier) || null;
}
