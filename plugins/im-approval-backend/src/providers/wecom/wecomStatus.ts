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

/** The approver node's `sp_yj` (or the older record's `sp_status`) that made each decision. */
export const WECOM_DECIDING_NODE_STATUS: Partial<Record<ImInstanceState['status'], number>> = {
  approved: 2,
  rejected: 3,
};
