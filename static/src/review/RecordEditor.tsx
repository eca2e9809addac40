// Editing a record's output and metadata. Only what changed is sent; the
// server marks the record "edited".
import { useEffect, useRef, useState } from 'react';
import { Box, Button, Flash, FormControl, Textarea } from '@primer/react';
import type { DataRecord, JsonObject } from '../types';
import { editBody } from './edit';

interface Props {
  record: DataRecord;
  onSave: (body: JsonObject) => Promise<void>; // throws to show an error
  onCancel: () => void;
}

export function RecordEditor({ record, onSave, onCancel }: Props) {
  const [output, setOutput] = useState(record.output);
  const [meta, setMeta] = useState(JSON.stringify(record.metadata || {}, null, 2));
  const [error, setError] = useState<string | null>(null);
  const outputRef = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const t = setTimeout(() => outputRef.current?.focus(), 30);
    return () => clearTimeout(t);
  }, []);
  const save = async () => {
    const r = editBody(record, output, meta);
    if ('error' in r) {
      setError(r.error);
      return;
    }
    if (!r.body) {
      onCancel();
      return;
    }
    try {
      await onSave(r.body);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const keys = (e: React.KeyboardEvent) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) save();
  };
  return (
    <Box data-testid="record-editor" sx={{ border: '1px solid', borderColor: 'accent.emphasis', borderRadius: 2, p: 3, mb: 3 }}>
      <FormControl>
        <FormControl.Label>Output</FormControl.Label>
        <Textarea ref={outputRef} value={output} onChange={(e) => setOutput(e.target.value)} rows={8} block resize="vertical" data-testid="edit-output" onKeyDown={keys} />
      </FormControl>
      <FormControl sx={{ mt: 2 }}>
        <FormControl.Label>Metadata (JSON)</FormControl.Label>
        <Textarea className="mono" value={meta} onChange={(e) => setMeta(e.target.value)} rows={5} block resize="vertical" data-testid="edit-metadata" onKeyDown={keys} />
      </FormControl>
      {error ? (
        <Flash variant="danger" sx={{ mt: 2 }} data-testid="edit-error">
          {error}
        </Flash>
      ) : null}
      <Box sx={{ display: 'flex', gap: 2, mt: 2 }}>
        <Button variant="primary" onClick={save} data-testid="edit-save">
          Save (Ctrl+Enter)
        </Button>
        <Button onClick={onCancel} data-testid="edit-cancel">
          Cancel (Esc)
        </Button>
      </Box>
    </Box>
  );
}
