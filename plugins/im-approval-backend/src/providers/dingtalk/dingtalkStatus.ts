import type { ImInstanceState } from '@im-approval/plugin-im-approval-node';

/**
 * A DingTalk instance's `status` and `result` to the provider-neutral status: approved only when
 * COMPLETED with `agree`; TERMINATED (revoked or terminated) and CANCELED end it unapproved.
 * Undefined for a combination DingTalk does not document.
 */
export function dingtalkInstanceStatus(
  status: string,
  result: string | undefined,
): ImInstanceState['status'] | undefined {
  switch (status) {
    case 'NEW':
    case 'RUNNING':
      return 'pending';
    case 'COMPLETED':
      if (result === 'agree') return 'approved';
      if (result === 'refuse') return 'rejected';
      return undefined;
    case 'TERMINATED':
    case 'CANCELED':
      return 'canceled';
    default:
      return undefined;
  }
}

/** The operation record that made the final decision, by the record's `result` (or its type for revocations). */
export const DINGTALK_DECIDING_RECORD: Record<
  Exclude<ImInstanceState['status'], 'pending'>,
  (record: { type?: string; result?: string }) => boolean
> = {
  approved: record => record.result === 'AGREE',
  rejected: record => record.result === 'REFUSE',
  canceled: record =>
    record.type === 'TERMINATE_PROCESS_INSTANCE' ||
    record.type === 'REVOKE_PROCESS_INSTANCE',
  deleted: () => false,
};
