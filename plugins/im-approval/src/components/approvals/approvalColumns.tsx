import type { TableColumn } from '@backstage/core-components';
import {
  describeDecider,
  describeRequester,
  type Approval,
} from '@im-approval/plugin-im-approval-common';
import { formatTime } from '../shared/time';
import { ApprovalStatus } from './ApprovalStatus';

/** The columns every table of approvals shows the same way. */
export const approvalColumns = {
  status: {
    title: 'Status',
    field: 'status',
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
    render: row => formatTime(row.createdAt),
  },
  decidedBy: {
    title: 'Decided by',
    field: 'decidedBy',
    render: row => describeDecider(row) ?? '—',
  },
} satisfies Record<string, TableColumn<Approval>>;
