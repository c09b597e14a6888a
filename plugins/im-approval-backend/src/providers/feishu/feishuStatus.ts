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

/** Timeline entries that hand a task on or add approvers; their open_id_list says to whom. */
export const FEISHU_HANDOVER_TYPES: ReadonlyMap<
  string,
  'transferred' | 'added'
> = new Map([
  ['TRANSFER', 'transferred'],
  ['ADD_APPROVER_BEFORE', 'added'],
  ['ADD_APPROVER', 'added'],
  ['ADD_APPROVER_AFTER', 'added'],
]);
