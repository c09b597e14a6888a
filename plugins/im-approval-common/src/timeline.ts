import { z } from 'zod';

export const timelineEventTypeSchema = z
  .enum([
    'created',
    'im_instance_created',
    'im_error',
    'approved',
    'rejected',
    'canceled',
    'expired',
    'failed',
    'im_instance_revoked',
    'im_revoke_failed',
  ])
  .meta({ id: 'TimelineEventType' });
export type TimelineEventType = z.infer<typeof timelineEventTypeSchema>;

/**
 * Where a change came from: the audit trail's "from where". `connection` is an event pushed over
 * a connection the backend holds to the IM (Feishu long connection, DingTalk Stream).
 */
export const timelineSourceSchema = z
  .enum(['api', 'callback', 'connection', 'reconciler', 'scheduler', 'admin'])
  .meta({ id: 'TimelineSource' });
export type TimelineSource = z.infer<typeof timelineSourceSchema>;

export const timelineEventSchema = z
  .object({
    type: timelineEventTypeSchema,
    at: z.iso.datetime(),
    source: timelineSourceSchema,
    actor: z.string().nullable(),
    message: z.string().nullable(),
  })
  .meta({ id: 'TimelineEvent' });
export type TimelineEvent = z.infer<typeof timelineEventSchema>;
