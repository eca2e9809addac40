// One record on its own: position, status actions, its fields by role,
// the editor and the execution trace.
import { useState } from 'react';
import { Box, Button, IconButton, Label, Text } from '@primer/react';
import { CheckIcon, ChevronLeftIcon, ChevronRightIcon, ClockIcon, PencilIcon, XIcon } from '@primer/octicons-react';
import type { DataRecord, FieldOrder, Json, JsonObject, RecordStatus } from '../types';
import { TraceView } from '../components/common';
import { fmtInt, fmtTime, shortId } from '../lib/format';
import { arrange, recordFields } from './fields';
import { RecordEditor } from './RecordEditor';

export function statusVariant(s: string): 'secondary' | 'success' | 'danger' | 'accent' {
  return s === 'accepted' ? 'success' : s === 'rejected' ? 'danger' : s === 'edited' ? 'accent' : 'secondary';
}

export function FieldValue({ value, big }: { value: Json; big?: boolean }) {
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

interface Props {
  record: DataRecord;
  position: number; // from 1, over every matching record
  total: number;
  order: FieldOrder;
  editing: boolean;
  onMove: (delta: number) => void;
  onStatus: (s: RecordStatus) => void;
  onEdit: () => void;
  onSave: (body: JsonObject) => Promise<void>;
  onCancelEdit: () => void;
}

export function RecordView({ record, position, total, order, editing, onMove, onStatus, onEdit, onSave, onCancelEdit }: Props) {
  const [showHidden, setShowHidden] = useState(false);
  const [showTrace, setShowTrace] = useState(false);
  const arranged = arrange(order, recordFields(record));
  return (
    <Box data-testid="record-single" data-record-id={record.id} data-status={record.status}>
      <Box sx={{ display: 'flex', alignItems: 'center', gap: 2, flexWrap: 'wrap', mb: 3 }}>
        <IconButton icon={ChevronLeftIcon} aria-label="Previous record (p)" onClick={() => onMove(-1)} disabled={position <= 1} data-testid="record-prev" />
        <Text data-testid="record-position">
          Record {fmtInt(position)} of {fmtInt(total)}
        </Text>
        <IconButton icon={ChevronRightIcon} aria-label="Next record (n)" onClick={() => onMove(1)} disabled={position >= total} data-testid="record-next" />
        <Label variant={statusVariant(record.status)} data-testid="record-status" sx={{ ml: 2 }}>
          {record.status}
        </Label>
        <Text sx={{ color: 'fg.muted', fontSize: 0 }} title={record.id}>
          {shortId(record.id)} · job {shortId(record.job_id)} · {fmtTime(record.created_at)}
        </Text>
        <Box sx={{ flex: 1 }} />
        <Button leadingVisual={CheckIcon} onClick={() => onStatus('accepted')} data-testid="record-accept">
          Accept <kbd>a</kbd>
        </Button>
        <Button leadingVisual={XIcon} onClick={() => onStatus('rejected')} data-testid="record-reject">
          Reject <kbd>r</kbd>
        </Button>
        <Button leadingVisual={ClockIcon} onClick={() => onStatus('pending')} data-testid="record-pending">
          Pending <kbd>u</kbd>
        </Button>
        <Button leadingVisual={PencilIcon} onClick={onEdit} data-testid="record-edit">
          Edit <kbd>e</kbd>
        </Button>
      </Box>

      {editing ? <RecordEditor key={record.id} record={record} onSave={onSave} onCancel={onCancelEdit} /> : null}

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
            {showTrace ? 'Hide' : 'Show'} execution trace ({record.trace?.length || 0} blocks)
          </Button>
          {showTrace ? (
            <Box sx={{ mt: 2 }}>
              <TraceView trace={record.trace} testid="record-trace" />
            </Box>
          ) : null}
        </Box>
      </Box>
    </Box>
  );
}
