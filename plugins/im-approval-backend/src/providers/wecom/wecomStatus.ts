import type { ImInstanceState } from '@im-approval/plugin-im-approval-node';

/**
 * WeCom `sp_status` to the provider-neutral status: 1 pending, 2 approved, 3 rejected,
 * 4 revoked, 6 revoked after approval, 7 deleted, 10 paid (approved, then paid out).
 */
export const WECOM_SP_STATUS: Record<number, ImInstanceState['status']> = {
  1: 'pending',
  2: 'approved',
  3: 'rejected',
  4: 'canceled',
  6: 'canceled',
  7: 'deleted',
  10: 'approved',
};

/**
 * The approver's `sp_yj` (current shape, `process_list … sub_node_list`) or the older record's
 * `sp_status` (`sp_record … details`) that made each decision: 2 approved, 3 rejected, and in the
 * current shape 13 (同意并加签), approved with an approver added.
 */
export const WECOM_DECIDING_NODE_STATUS: Partial<
  Record<ImInstanceState['status'], readonly number[]>
> = {
  approved: [2, 13],
  rejected: [3],
};
