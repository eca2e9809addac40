import { Box, Button, Checkbox, Flash, FormControl, Select, Text, TextInput, Textarea } from '@primer/react';
import { CopyIcon, TrashIcon } from '@primer/octicons-react';
import type { BlockInfo, Json } from '../types';
import { editorKind, type FormValues } from './model';

function textOf(v: Json | undefined): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

// The text of an enum value kept in the form as JSON.
function enumLabel(v: string): string {
  try {
    return textOf(JSON.parse(v) as Json);
  } catch {
    return v;
  }
}

export interface ConfigPanelProps {
  nodeId: string;
  blockType: string;
  info?: BlockInfo;
  values: FormValues;
  fields: string[];
  errors: Record<string, string>;
  serverError?: { key?: string; message: string };
  onChange: (key: string, value: string | boolean) => void;
  onDelete: () => void;
  onDuplicate: () => void;
}

// The form for one block, generated from its config_schema alone.
export function ConfigPanel(p: ConfigPanelProps) {
  const schema = p.info?.config_schema || {};
  const props = Object.entries(schema.properties || {});
  const required = new Set(schema.required || []);
  return (
    <Box data-testid="config-panel" data-node-id={p.nodeId} sx={{ display: 'flex', flexDirection: 'column', gap: 3 }}>
      <Box>
        <Text as="div" sx={{ fontWeight: 'bold', fontSize: 2 }}>
          {p.info?.name || p.blockType}
        </Text>
        <Text as="div" sx={{ color: 'fg.muted', fontSize: 0 }}>
          {p.blockType}
          {p.info ? ` · ${p.info.category}` : ''}
        </Text>
        {p.info?.description ? <Text as="p" sx={{ fontSize: 1, mt: 1, mb: 0 }}>{p.info.description}</Text> : null}
        {p.info ? (
          <Text as="div" sx={{ fontSize: 0, color: 'fg.muted', mt: 1 }}>
            reads: {p.info.inputs.length ? p.info.inputs.join(', ') : '–'} · writes: {p.info.outputs.join(', ') || '–'}
          </Text>
        ) : (
          <Flash variant="danger" sx={{ mt: 2 }}>This block type is not known to the server.</Flash>
        )}
      </Box>
      <Box sx={{ display: 'flex', gap: 2 }}>
        <Button size="small" leadingVisual={CopyIcon} onClick={p.onDuplicate} data-testid="node-duplicate">
          Duplicate
        </Button>
        <Button size="small" variant="danger" leadingVisual={TrashIcon} onClick={p.onDelete} data-testid="node-delete">
          Delete
        </Button>
      </Box>
      {p.serverError && !p.serverError.key ? (
        <Flash variant="danger" data-testid="config-server-error">{p.serverError.message}</Flash>
      ) : null}
      {props.length === 0 ? <Text sx={{ color: 'fg.muted' }}>This block has no settings.</Text> : null}
      {props.map(([name, prop]) => {
        const kind = editorKind(name, prop);
        const id = `cfg-${p.nodeId}-${name}`;
        const value = p.values[name];
        const sval = typeof value === 'string' ? value : '';
        const err = p.serverError?.key === name ? p.serverError.message : p.errors[name];
        const label = (
<FormControl.Label>{name}</FormControl.Label>
        );
        const caption = prop.description ? <FormControl.Caption>{prop.description}</FormControl.Caption> : null;
        const validation = err ? (
          <FormControl.Validation variant="error" data-testid={`config-error-${name}`}>
            {err}
          </FormControl.Validation>
        ) : null;
        if (kind === 'boolean') {
          return (
            <FormControl key={name} id={id}>
              <Checkbox checked={value === true} onChange={(e) => p.onChange(name, e.target.checked)} data-testid={`config-${name}`} />
              <FormControl.Label>{name}</FormControl.Label>
              {caption}
              {validation}
            </FormControl>
          );
        }
        let control: JSX.Element;
        switch (kind) {
          case 'enum': {
            // A null in the enum is "the server's default" (the model
            // pickers list their names, then null): the "(default)" entry,
            // which leaves the key out of the config.
            const all = prop.enum || [];
            const opts = all.filter((e) => e !== null);
            const missing = sval !== '' && !opts.some((e) => JSON.stringify(e) === sval);
            control = (
              <Select value={sval} onChange={(e) => p.onChange(name, e.target.value)} data-testid={`config-${name}`} block>
                {!required.has(name) || all.includes(null) ? <Select.Option value="">(default)</Select.Option> : null}
                {missing ? <Select.Option value={sval}>{enumLabel(sval)} (not available)</Select.Option> : null}
                {opts.map((e) => (
                  <Select.Option key={JSON.stringify(e)} value={JSON.stringify(e)}>
                    {textOf(e)}
                  </Select.Option>
                ))}
              </Select>
            );
            break;
          }
          case 'field': {
            const opts = [...p.fields];
            const missing = sval !== '' && !opts.includes(sval);
            control = (
              <Select value={sval} onChange={(e) => p.onChange(name, e.target.value)} data-testid={`config-${name}`} block>
                <Select.Option value="">(choose a field)</Select.Option>
                {missing ? <Select.Option value={sval}>{sval} (not available here)</Select.Option> : null}
                {opts.map((f) => (
                  <Select.Option key={f} value={f}>
                    {f}
                  </Select.Option>
                ))}
              </Select>
            );
            break;
          }
          case 'integer':
          case 'number':
            control = (
              <TextInput
                type="number"
                step={kind === 'integer' ? 1 : 'any'}
                value={sval}
                placeholder={prop.default === undefined || prop.default === null ? '' : `default ${textOf(prop.default)}`}
                onChange={(e) => p.onChange(name, e.target.value)}
                data-testid={`config-${name}`}
                block
              />
            );
            break;
          case 'code':
          case 'json':
            control = (
              <Textarea
                className="mono"
                rows={kind === 'json' ? 10 : 6}
                spellCheck={false}
                value={sval}
                placeholder={kind === 'json' ? '{"type": "object", "properties": {...}}' : 'Jinja template, e.g. {{ content }}'}
                onChange={(e) => p.onChange(name, e.target.value)}
                data-testid={`config-${name}`}
                block
                resize="vertical"
              />
            );
            break;
          case 'list':
            control = (
              <Textarea
                rows={3}
                value={sval}
                placeholder="one per line"
                onChange={(e) => p.onChange(name, e.target.value)}
                data-testid={`config-${name}`}
                block
                resize="vertical"
              />
            );
            break;
          default:
            control = (
              <TextInput
                value={sval}
                placeholder={prop.default === null ? 'server default' : textOf(prop.default)}
                onChange={(e) => p.onChange(name, e.target.value)}
                data-testid={`config-${name}`}
                block
              />
            );
        }
        return (
          <FormControl key={name} id={id} required={required.has(name)}>
            {label}
            {control}
            {kind === 'field' && p.fields.length === 0 ? (
              <FormControl.Caption>No fields yet: add seed fields in the Pipeline tab or connect earlier blocks.</FormControl.Caption>
            ) : (
              caption
            )}
            {validation}
          </FormControl>
        );
      })}
    </Box>
  );
}
