import { describe, expect, it } from 'vitest';
import {
  END_ID, START_ID, availableFields, chainFrom, constraintsFromForm, createsCycle, editorKind, fromForm,
  checkPipeline, exampleInput, graphFromDefinition, layout, missingRequired, nodesPerRow, parseFieldPath, pickExample,
  templateVars, toForm, type GraphBlock,
} from './model';
import type { BlockInfo, ConfigSchema, PipelineDef } from '../types';

const info = (type: string, outputs: string[], is_multiplier = false): BlockInfo => ({
  type, name: type, description: '', category: 'x', inputs: [], outputs, is_multiplier, config_schema: {},
});

describe('chainFrom', () => {
  it('orders blocks by following edges from Start, not by creation order', () => {
    const c = chainFrom(['a', 'b', 'c'], [
      { source: 'b', target: 'a' },
      { source: START_ID, target: 'b' },
      { source: 'a', target: END_ID },
    ]);
    expect(c.order).toEqual(['b', 'a']);
    expect(c.reachesEnd).toBe(true);
    expect(c.unconnected).toEqual(['c']);
  });
  it('reports a chain that stops before End', () => {
    const c = chainFrom(['a'], [{ source: START_ID, target: 'a' }]);
    expect(c.order).toEqual(['a']);
    expect(c.reachesEnd).toBe(false);
  });
  it('stops on a loop instead of spinning', () => {
    const c = chainFrom(['a', 'b'], [
      { source: START_ID, target: 'a' },
      { source: 'a', target: 'b' },
      { source: 'b', target: 'a' },
    ]);
    expect(c.order).toEqual(['a', 'b']);
    expect(c.reachesEnd).toBe(false);
  });
});

describe('createsCycle', () => {
  it('detects a connection back to an ancestor', () => {
    const edges = [{ source: 'a', target: 'b' }, { source: 'b', target: 'c' }];
    expect(createsCycle(edges, 'c', 'a')).toBe(true);
    expect(createsCycle(edges, 'a', 'c')).toBe(false);
    expect(createsCycle(edges, 'a', 'a')).toBe(true);
  });
});

const schema: ConfigSchema = {
  type: 'object',
  required: ['json_schema'],
  properties: {
    json_schema: { type: ['object', 'string'] },
    model: { type: ['string', 'null'], default: null },
    temperature: { type: 'number', default: 0.7 },
    max_tokens: { type: 'integer', default: 2048 },
    user_prompt: { type: 'string', default: '' },
    strict: { type: 'boolean', default: false },
    rouge_type: { type: 'string', enum: ['rouge1', 'rouge2', 'rougeL'], default: 'rouge1' },
    field_name: { type: 'string', default: 'assistant', isFieldReference: true },
    forbidden_words: { type: 'array', items: { type: 'string' }, default: [] },
  },
};

describe('schema-driven forms', () => {
  it('picks a control per property', () => {
    const p = schema.properties!;
    expect(editorKind('json_schema', p.json_schema)).toBe('json');
    expect(editorKind('temperature', p.temperature)).toBe('number');
    expect(editorKind('max_tokens', p.max_tokens)).toBe('integer');
    expect(editorKind('user_prompt', p.user_prompt)).toBe('code');
    expect(editorKind('strict', p.strict)).toBe('boolean');
    expect(editorKind('rouge_type', p.rouge_type)).toBe('enum');
    expect(editorKind('field_name', p.field_name)).toBe('field');
    expect(editorKind('forbidden_words', p.forbidden_words)).toBe('list');
    expect(editorKind('model', p.model)).toBe('text');
  });

  it('round-trips a config through the form', () => {
    const config = {
      json_schema: { type: 'object', properties: { title: { type: 'string' } } },
      temperature: 0.2,
      max_tokens: 100,
      user_prompt: 'About {{ content }}',
      strict: true,
      rouge_type: 'rougeL',
      field_name: 'generated',
      forbidden_words: ['foo', 'bar'],
    };
    const back = fromForm(toForm(config, schema), schema);
    expect(back.errors).toEqual({});
    expect(back.config).toEqual(config);
  });

  it('leaves optional empty fields to the server defaults', () => {
    const v = toForm({}, schema);
    v.json_schema = '{"type":"object"}';
    v.temperature = '';
    const { config, errors } = fromForm(v, schema);
    expect(errors).toEqual({});
    expect('temperature' in config).toBe(false);
    expect('model' in config).toBe(false);
    expect(config.max_tokens).toBe(2048);
  });

  it('shows a number that may be a template as text, and keeps either', () => {
    const count = { type: 'object', properties: { target_count: { type: ['integer', 'string'], default: 10 } } } as const;
    const p = count.properties.target_count as unknown as Parameters<typeof editorKind>[1];
    expect(editorKind('target_count', p)).toBe('text');
    const s = count as unknown as Parameters<typeof toForm>[1];
    const v = toForm({ target_count: '{{ target_count }}' }, s);
    expect(v.target_count).toBe('{{ target_count }}');
    expect(fromForm(v, s)).toEqual({ config: { target_count: '{{ target_count }}' }, errors: {} });
    expect(fromForm({ target_count: '25' }, s).config).toEqual({ target_count: 25 });
    expect(fromForm({ target_count: '' }, s).config).toEqual({});
  });

  it('a model picker: names from the enum, "" (or null) is the default and leaves the key out', () => {
    const picker = { type: 'object', properties: { model: { type: ['string', 'null'], default: null, enum: ['fast', 'cheap', null] } } } as const;
    const s = picker as unknown as Parameters<typeof toForm>[1];
    expect(editorKind('model', picker.properties.model as unknown as Parameters<typeof editorKind>[1])).toBe('enum');
    expect(toForm({}, s).model).toBe('');
    expect(toForm({ model: '' }, s).model).toBe('');
    expect(toForm({ model: null }, s).model).toBe('');
    const v = toForm({ model: 'cheap' }, s);
    expect(v.model).toBe('"cheap"');
    expect(fromForm(v, s)).toEqual({ config: { model: 'cheap' }, errors: {} });
    expect(fromForm({ model: '' }, s)).toEqual({ config: {}, errors: {} });
    expect(fromForm({ model: '"gone"' }, s).errors.model).toMatch(/Must be one of/);
  });

  it('keeps a JSON schema that is a template as a string', () => {
    const v = toForm({}, schema);
    v.json_schema = '{{ schema_text }}';
    expect(fromForm(v, schema).config.json_schema).toBe('{{ schema_text }}');
  });

  it('reports type errors per field and the required ones as missing', () => {
    const v = toForm({}, schema);
    v.max_tokens = '1.5';
    v.temperature = 'hot';
    const { errors } = fromForm(v, schema);
    expect(errors.max_tokens).toMatch(/whole number/);
    expect(errors.temperature).toMatch(/number/);
    expect(errors.json_schema).toBe('Required');
    expect(missingRequired(v, schema)).toEqual(['json_schema']);
  });
});

describe('availableFields', () => {
  const infos = new Map([
    ['Gen', info('Gen', ['assistant', 'user'])],
    ['Score', info('Score', ['score'])],
    ['Split', info('Split', ['content', 'chunk_index'], true)],
    ['Any', info('Any', ['*'])],
  ]);
  it('lists seed keys and outputs of earlier blocks only', () => {
    expect(availableFields(['Gen', 'Score'], 0, ['topic'], infos)).toEqual(['topic']);
    expect(availableFields(['Gen', 'Score'], 1, ['topic'], infos)).toEqual(['topic', 'assistant', 'user']);
    expect(availableFields(['Gen', 'Any', 'Score'], 2, [], infos)).toEqual(['assistant', 'user']);
  });
  it('replaces the seed fields after a multiplier', () => {
    expect(availableFields(['Split', 'Gen'], 1, ['file_content'], infos)).toEqual(['content', 'chunk_index']);
  });
});

describe('parseFieldPath', () => {
  it('maps server field paths to blocks and constraints', () => {
    expect(parseFieldPath('blocks[1].config.rouge_type')).toEqual({ blockIndex: 1, configKey: 'rouge_type' });
    expect(parseFieldPath('blocks[0].type')).toEqual({ blockIndex: 0 });
    expect(parseFieldPath('blocks[12]')).toEqual({ blockIndex: 12 });
    expect(parseFieldPath('constraints.max_total_tokens')).toEqual({ constraint: 'max_total_tokens' });
    expect(parseFieldPath('name')).toEqual({ top: 'name' });
    expect(parseFieldPath(undefined)).toBeNull();
  });
});

describe('constraintsFromForm', () => {
  it('treats empty and -1 as unlimited and rejects other negatives', () => {
    const r = constraintsFromForm({ max_total_tokens: '-1', max_total_input_tokens: '500', max_total_output_tokens: '-3', max_total_execution_time: '1.5' });
    expect(r.constraints).toEqual({ max_total_input_tokens: 500, max_total_execution_time: 1.5 });
    expect(Object.keys(r.errors)).toEqual(['max_total_output_tokens']);
  });
});

describe('templateVars', () => {
  it('finds the variables a prompt reads', () => {
    expect(templateVars('{{ topic | upper }} {% if style %}{{ style }}{% endif %}{% for q in questions %}{{ loop.index }}{{ q }}{% endfor %}').sort())
      .toEqual(['q', 'questions', 'style', 'topic']);
  });
});

describe('layout', () => {
  it('puts the chain left to right and loose blocks below', () => {
    const p = layout(['a', 'b'], ['c']);
    expect(p[START_ID].x).toBeLessThan(p.a.x);
    expect(p.a.x).toBeLessThan(p.b.x);
    expect(p.b.x).toBeLessThan(p[END_ID].x);
    expect(p.c.y).toBeGreaterThan(p.a.y);
  });
});

describe('layout wrapping', () => {
  it('wraps a long chain into rows that fit the canvas', () => {
    const p = layout(['a', 'b', 'c', 'd'], [], 260, 3);
    expect(p[START_ID].y).toBeLessThan(p.c.y); // start, a, b on row 1; c, d, end on row 2
    expect(p.a.y).toBe(p.b.y);
    expect(p.c.y).toBe(p.d.y);
    expect(p.c.x).toBe(p[START_ID].x);
    expect(nodesPerRow(650)).toBe(2);
    expect(nodesPerRow(1280)).toBe(4);
  });
});

const schemaInfo = (type: string, schema: ConfigSchema, outputs: string[] = ['x']): BlockInfo => ({
  type, name: type, description: '', category: 'x', inputs: [], outputs, is_multiplier: false, config_schema: schema,
});

describe('graph <-> definition', () => {
  const infos = new Map([
    ['T', schemaInfo('T', { required: ['prompt'], properties: { prompt: { type: 'string' }, temperature: { type: 'number' } } })],
    ['C', schemaInfo('C', { properties: { field_name: { type: 'string', default: 'assistant' } } })],
  ]);
  it('round-trips a definition through the graph, unknown keys kept', () => {
    const def: PipelineDef = { name: 'p', blocks: [{ type: 'T', config: { prompt: 'hi', temperature: 0.5, legacy: 1 } }, { type: 'C', config: { field_name: 'y' } }], constraints: {} };
    const g = graphFromDefinition(def, infos);
    expect(g.blocks.map((b) => b.id)).toEqual(['n1', 'n2']);
    expect(g.edges.map((e) => `${e.source}>${e.target}`)).toEqual([`${START_ID}>n1`, 'n1>n2', `n2>${END_ID}`]);
    const c = checkPipeline('p', g.blocks, g.edges, infos, {});
    expect(c.messages).toEqual([]);
    expect(c.definition).toEqual({ name: 'p', blocks: [{ type: 'T', config: { legacy: 1, prompt: 'hi', temperature: 0.5 } }, { type: 'C', config: { field_name: 'y' } }], constraints: {} });
  });
  it('says what stops a save, counting blocks from 1, and nothing once fixed', () => {
    const blocks: GraphBlock[] = [
      { id: 'a', blockType: 'T', values: { prompt: '', temperature: '' }, extra: {} },
      { id: 'b', blockType: 'C', values: { field_name: 'assistant' }, extra: {} },
    ];
    let c = checkPipeline('', blocks, [], infos, { max_total_tokens: 'x' });
    expect(c.definition).toBeNull();
    expect(c.messages).toContain('Give the pipeline a name.');
    expect(c.messages).toContain('Connect Start to the first block.');
    expect(c.messages.some((m) => /Block \(T\) is not connected/.test(m))).toBe(true);
    expect(c.messages).toContain('Constraint max_total_tokens: Must be a number');
    const edges = [{ source: START_ID, target: 'a' }, { source: 'a', target: 'b' }];
    c = checkPipeline('p', blocks, edges, infos, {});
    expect(c.messages).toEqual(['Connect the last block to End.', 'Block 1 (T): “prompt” is required.']);
    blocks[0].values.prompt = 'go';
    c = checkPipeline('p', blocks, [...edges, { source: 'b', target: END_ID }], infos, {});
    expect(c.messages).toEqual([]);
    expect(c.definition?.blocks.map((b) => b.type)).toEqual(['T', 'C']);
  });
});

describe('example seeds for try-it', () => {
  const md = { id: 'qa', name: 'Q&A', description: '', example_seed: '# Title\n\nText.' };
  const js = { id: 'j', name: 'JSON', description: '', example_seed: [{ metadata: { content: 'sun' } }] };
  it('turns a template seed into try-it input', () => {
    expect(JSON.parse(exampleInput(md)!)).toEqual({ file_content: '# Title\n\nText.' });
    expect(JSON.parse(exampleInput(js)!)).toEqual({ content: 'sun' });
    expect(JSON.parse(exampleInput({ ...js, example_seed: JSON.stringify(js.example_seed) })!)).toEqual({ content: 'sun' });
    expect(exampleInput({ id: 'x', name: 'x', description: '' })).toBeNull();
  });
  it('prefers the template of the same name, else the same kind of seed', () => {
    expect(pickExample([js, md], 'Q&A', false)?.id).toBe('qa');
    expect(pickExample([js, md], 'mine', true)?.id).toBe('qa');
    expect(pickExample([md, js], 'mine', false)?.id).toBe('j');
  });
});
