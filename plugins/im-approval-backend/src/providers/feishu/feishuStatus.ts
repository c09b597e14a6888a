import type { ImInstanceState } from '@im-approval/plugin-im-approval-node';

/** Feishu instance statuses (one L in CANCELED) to the provider-neutral ones. */
export const FEISHU_INSTANCE_STATUS: Record<string, ImInstanceState['status']> =
  {
    PENDING: 'pending',
    APPROVED: 'approved',
    REJECTED: 'rejected',
    CANCELED: 'canceled',
    DELETED: 'deleted',
  };

/** The timeline entry that records who made the instance's final decision. */
export const DECIDING_TIMELINE_TYPES: Record<string, string[]> = {
  approved: ['PASS', 'AUTO_PASS'],
  rejected: ['REJECT', 'AUTO_REJECT'],
  canceled: ['CANCEL'],
  deleted: ['DELETE'],
};
