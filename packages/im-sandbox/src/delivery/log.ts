import { z } from 'zod';

// What every IM's event delivery shares: the misbehaviour a test may ask for, and the log of
// every attempt that the control API shows.

export const deliveryControlSchema = z.strictObject({
  /** Deliver every event twice, with the same event id. */
  duplicate: z.boolean().optional(),
  /** Deliver this long after the change. */
  delayMs: z.number().int().min(0).max(600_000).optional(),
  /** Do not deliver at all (as if the event was lost for good). */
  drop: z.boolean().optional(),
});
export type DeliveryControl = z.infer<typeof deliveryControlSchema>;

export type DeliveryChannel = 'callback' | 'long-connection' | 'stream';

export interface ImDeliveryRecord {
  eventId: string;
  eventType: string;
  /** The task's or the instance's status the event reports. */
  eventStatus: string;
  instanceId: string;
  appId: string;
  channel: DeliveryChannel;
  /** The callback URL (HTTP channels only). */
  url?: string;
  /** 1 for the first try; 0 when nothing was sent. */
  attempt: number;
  /** queued: a long-connection event waiting for a connected client. */
  outcome: 'delivered' | 'failed' | 'dropped' | 'skipped' | 'queued';
  httpStatus?: number;
  error?: string;
  willRetry: boolean;
  at: string;
}

/** The identity of one event, as every attempt to deliver it records it. */
export type EventIdentity = Pick<
  ImDeliveryRecord,
  | 'eventId'
  | 'eventType'
  | 'eventStatus'
  | 'instanceId'
  | 'appId'
  | 'channel'
  | 'url'
>;
export type AttemptResult = Pick<
  ImDeliveryRecord,
  'attempt' | 'outcome' | 'httpStatus' | 'error' | 'willRetry'
>;

export class DeliveryLog {
  private readonly records: ImDeliveryRecord[] = [];

  /** `im` prefixes the log lines ("feishu", "dingtalk", "wecom"). */
  constructor(
    private readonly im: string,
    private readonly log: (line: string) => void,
  ) {}

  record(event: EventIdentity, result: AttemptResult): void {
    const record: ImDeliveryRecord = {
      ...event,
      ...result,
      at: new Date().toISOString(),
    };
    this.records.push(record);
    const answer =
      record.httpStatus === undefined
        ? (record.error ?? '')
        : `HTTP ${record.httpStatus}`;
    const attempt =
      record.attempt > 0
        ? ` (attempt ${record.attempt}${answer ? `, ${answer}` : ''})`
        : '';
    const what = `${record.eventType} ${record.eventStatus} of ${record.instanceId}`;
    this.log(
      `${this.im}: ${record.outcome} ${what} to ${record.appId} by ${record.channel}${attempt}`,
    );
  }

  all(): ImDeliveryRecord[] {
    return [...this.records];
  }

  clear(): void {
    this.records.length = 0;
  }

  /** The records a sandbox state file kept, in place of these. */
  restore(records: ImDeliveryRecord[]): void {
    this.records.splice(0, this.records.length, ...records);
  }
}
