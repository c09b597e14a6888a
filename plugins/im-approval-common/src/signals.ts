import { z } from 'zod';
import { approvalStatusSchema } from './status';

/**
 * The Backstage signals channel on which the backend announces each change of an approval (opened,
 * its IM instance created or retried, decided), so pages update without reloading.
 *
 * @public
 */
export const APPROVAL_SIGNAL_CHANNEL = 'im-approval:approvals';

/**
 * What a signal says: which approval changed, and its status now. Pages read the approval again
 * through the API, where their permissions apply, so the signal itself carries nothing more.
 *
 * @public
 */
export const approvalSignalSchema = z
  .object({ id: z.uuid(), status: approvalStatusSchema })
  .meta({ id: 'ApprovalSignal' });
/** @public */
export type ApprovalSignal = z.infer<typeof approvalSignalSchema>;

/**
 * Where an approval's page is in an app that mounts the plugin at `/im-approval`, as the README
 * says to: notifications and the entity card link there.
 *
 * @public
 */
export function approvalPagePath(id: string): string {
  return `/im-approval/approvals/${encodeURIComponent(id)}`;
}
