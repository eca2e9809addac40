// The records of one page as a table: primary fields, numeric state
// fields as sortable columns (sorted on the server), status, time.
import React from 'react';
import { Box, Button, Label } from '@primer/react';
import { TriangleDownIcon, TriangleUpIcon } from '@primer/octicons-react';
import type { DataRecord } from '../types';
import { fmtTime, preview } from '../lib/format';
import { finalState, recordFields } from './fields';
import { fmtNum, sortDirection } from './query';
import { statusVariant } from './RecordView';

interface Props {
  records: DataRecord[];
  offset: number; // rows are numbered from offset + 1
  index: number; // the current row
  primaryCols: string[];
  scoreCols: string[];
  sort: string;
  onSort: (field: string) => void; // 'created_at' or a score field
  onSelect: (i: number) => void;
  onOpen: (i: number) => void;
}

function SortHeader({ label, field, sort, onSort }: { label: string; field: string; sort: string; onSort: (f: string) => void }) {
  // created_at's natural order is newest first, which is sort ''.
  const dir = field === 'created_at' ? (sort === '' ? 'descending' : sort === 'created_at' ? 'ascending' : 'none') : sortDirection(sort, field);
  return (
    <th aria-sort={dir}>
      <button type="button" className="sort-header" onClick={() => onSort(field)} data-testid={`sort-${field}`} data-sort={dir}>
        {label} {dir === 'descending' ? <TriangleDownIcon size={12} /> : dir === 'ascending' ? <TriangleUpIcon size={12} /> : null}
      </button>
    </th>
  );
}

export function RecordTable({ records, offset, index, primaryCols, scoreCols, sort, onSort, onSelect, onOpen }: Props) {
  return (
    <Box sx={{ overflowX: 'auto' }}>
      <table className="dgen-table" data-testid="records-table" aria-label="Records">
        <thead>
          <tr>
            <th>#</th>
            <th>Status</th>
            {primaryCols.map((c) => (
              <th key={c}>{c}</th>
            ))}
            {scoreCols.map((c) => (
              <SortHeader key={c} label={c} field={c} sort={sort} onSort={onSort} />
            ))}
            <SortHeader label="Created" field="created_at" sort={sort} onSort={onSort} />
            <th>
              <span className="sr-only" style={{ position: 'absolute', width: 1, height: 1, overflow: 'hidden', clip: 'rect(0 0 0 0)' }}>
                Actions
              </span>
            </th>
          </tr>
        </thead>
        <tbody>
          {records.map((r, i) => {
            const fields = new Map(recordFields(r));
            const state = finalState(r);
            return (
              <tr
                key={r.id}
                className={i === index ? 'current' : ''}
                data-testid="record-row"
                data-record-id={r.id}
                data-status={r.status}
                aria-selected={i === index}
                onClick={() => onSelect(i)}
                onDoubleClick={() => onOpen(i)}
              >
                <td>{offset + i + 1}</td>
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
                {scoreCols.map((c) => (
                  <td key={c} className="num" data-testid={`cell-${c}`}>
                    {typeof state[c] === 'number' ? fmtNum(state[c] as number) : '–'}
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
                      onOpen(i);
                    }}
                    data-testid="open-record"
                    aria-label={`Open record ${offset + i + 1}`}
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
  );
}
