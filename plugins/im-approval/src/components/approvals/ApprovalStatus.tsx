import {
  StatusAborted,
  StatusError,
  StatusOK,
  StatusPending,
  StatusWarning,
} from '@backstage/core-components';
import type { ApprovalStatus as Status } from '@im-approval/plugin-im-approval-common';

const STATUS_ICON = {
  pending: StatusPending,
  approved: StatusOK,
  rejected: StatusError,
  canceled: StatusAborted,
  expired: StatusWarning,
  failed: StatusError,
} satisfies Record<Status, unknown>;

export function ApprovalStatus(props: { status: Status }) {
  const Icon = STATUS_ICON[props.status];
  return <Icon>{props.status}</Icon>;
}
