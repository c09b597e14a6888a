import type { TableColumn } from '@backstage/core-components';
import {
  describeDecider,
  describeRequester,
  type Approval,
} from '@im-approval/plugin-im-approval-common';
import { formatShortTime, formatTime } from '../shared/time';
import { ApprovalStatus } from './ApprovalStatus';

/** The columns every table of approvals shows the same way. */
export const approvalColumns = {
  status: {
    title: 'Status',
    field: 'status',
    cellStyle: { whiteSpace: 'nowrap' },
    render: row => <ApprovalStatus status={row.status} />,
  },
  requester: {
    title: 'Requested by',
    field: 'requester',
    render: row =>
      row.requester ? describeRequester(row.requester) : row.context.caller,
  },
  requested: {
    title: 'Requested',
    field: 'createdAt',
    cellStyle: { whiteSpace: 'nowrap' },
    render: row => (
      <time dateTime={row.createdAt} title={formatTime(row.createdAt)}>
        {formatShortTime(row.createdAt)}
      </time>
    ),
  },
  decidedBy: {
    title: 'Decided by',
    field: 'decidedBy',
    render: row => describeDecider(row) ?? '—',
  },
} satisfies Record<string, TableColumn<Approval>>;
