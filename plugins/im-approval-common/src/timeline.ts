import { z } from 'zod';

/** @public */
export const timelineEventTypeSchema = z
  .enum([
    'created',
    'im_instance_created',
    'im_error',
    'stage_approved',
    'approved',
    'rejected',
    'canceled',
    'expired',
    'failed',
    'im_instance_revoked',
    'im_revoke_failed',
    'reminded',
    'escalated',
  ])
  .meta({ id: 'TimelineEventType' });
/** @public */
export type TimelineEventType = z.infer<typeof timelineEventTypeSchema>;

/**
 * Where a change came from: the audit trail's "from where". `connection` is an event pushed over
 * a connection the backend holds to the IM (Feishu long connection, DingTalk Stream); `github` a
 * webhook from the GitHub App (a deployment gate's job requested or its run cancelled).
 *
 * @public
 */
export const timelineSourceSchema = z
  .enum([
    'api',
    'callback',
    'connection',
    'reconciler',
    'scheduler',
    'admin',
    'github',
  ])
  .meta({ id: 'TimelineSource' });
/** @public */
export type TimelineSource = z.infer<typeof timelineSourceSchema>;

/** @public */
export const timelineEventSchema = z
  .object({
    type: timelineEventTypeSchema,
    at: z.iso.datetime(),
    source: timelineSourceSchema,
    actor: z.string().nullable(),
    message: z.string().nullable(),
  })
  .meta({ id: 'TimelineEvent' });
/** @public */
export type TimelineEvent = z.infer<typeof timelineEventSchema>;
