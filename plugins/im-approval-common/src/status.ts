import { z } from 'zod';

/** @public */
export const approvalStatusSchema = z
  .enum(['pending', 'approved', 'rejected', 'canceled', 'expired', 'failed'])
  .meta({ id: 'ApprovalStatus' });
/** @public */
export type ApprovalStatus = z.infer<typeof approvalStatusSchema>;

/**
 * The statuses an approval ends in; once reached, an approval never changes again.
 *
 * @public
 */
export type TerminalStatus = Exclude<ApprovalStatus, 'pending'>;

/** @public */
export function isTerminal(status: ApprovalStatus): status is TerminalStatus {
  return status !== 'pending';
}
