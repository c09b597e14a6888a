import { z } from 'zod';

export const approvalStatusSchema = z
  .enum(['pending', 'approved', 'rejected', 'canceled', 'expired', 'failed'])
  .meta({ id: 'ApprovalStatus' });
export type ApprovalStatus = z.infer<typeof approvalStatusSchema>;

/** The statuses an approval ends in; once reached, an approval never changes again. */
export type TerminalStatus = Exclude<ApprovalStatus, 'pending'>;

export function isTerminal(status: ApprovalStatus): status is TerminalStatus {
  return status !== 'pending';
}
