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
 * What a signal says: which approvals changed in the last moment, and the status of each now.
 * Changes are sent together (at most {@link APPROVAL_SIGNAL_BATCH} a signal, a tenth of a second
 * apart), so a burst of decisions costs a few signals. Pages read the approvals again through the
 * API, where their permissions apply, so the signal carries nothing more.
 *
 * @public
 */
export const approvalSignalSchema = z
  .object({
    changes: z.array(z.object({ id: z.uuid(), status: approvalStatusSchema })),
  })
  .meta({ id: 'ApprovalSignal' });
/** @public */
export type ApprovalSignal = z.infer<typeof approvalSignalSchema>;

/** @public */
export const APPROVAL_SIGNAL_BATCH = 200;

/**
 * Where an approval's page is in an app that mounts the plugin at `/im-approval`, as the README
 * says to: notifications and the entity card link there.
 *
 * @public
 */
export function approvalPagePath(id: string): string {
  return `/im-approval/approvals/${encodeURIComponent(id)}`;
}
