// Accept or reject every record matching the filter at once, after a
// confirmation that names the count and the filter.
import { Box, Button, useConfirm } from '@primer/react';
import { CheckIcon, XIcon } from '@primer/octicons-react';
import { api } from '../api';
import type { RecordStatus } from '../types';
import { ErrorFlash } from '../components/common';
import { useAction } from '../hooks/useAction';
import { fmtInt } from '../lib/format';
import { describeFilter, filterToBody, type RecordFilter } from './query';

interface Props {
  filter: RecordFilter;
  total: number;
  onDone: (message: string) => void;
}

export function BulkReview({ filter, total, onDone }: Props) {
  const confirm = useConfirm();
  const action = useAction();
  const bulk = async (status: RecordStatus, verb: string) => {
    const ok = await confirm({
      title: `${verb} ${fmtInt(total)} record${total === 1 ? '' : 's'}?`,
      content: `Every record matching this filter (${describeFilter(filter)}) becomes ${status}: ${fmtInt(total)} in all, on every page.`,
      confirmButtonContent: `${verb} ${fmtInt(total)}`,
      confirmButtonType: status === 'rejected' ? 'danger' : 'primary',
    });
    if (!ok) return;
    const r = await action.run(() => api.bulkStatus(filterToBody(filter), status));
    if (r) onDone(`${status === 'accepted' ? 'Accepted' : 'Rejected'} ${fmtInt(r.updated)} record${r.updated === 1 ? '' : 's'}.`);
  };
  return (
    <Box sx={{ display: 'flex', gap: 2, alignItems: 'center', flexWrap: 'wrap' }} data-testid="bulk-review">
      <Button size="small" leadingVisual={CheckIcon} disabled={!total || action.busy} onClick={() => bulk('accepted', 'Accept')} data-testid="bulk-accept">
        Accept all {fmtInt(total)}
      </Button>
      <Button size="small" leadingVisual={XIcon} disabled={!total || action.busy} onClick={() => bulk('rejected', 'Reject')} data-testid="bulk-reject">
        Reject all {fmtInt(total)}
      </Button>
      {action.busy ? <span data-testid="bulk-busy">Updating…</span> : null}
      <ErrorFlash error={action.error} testid="bulk-error" onDismiss={action.clear} />
    </Box>
  );
}
