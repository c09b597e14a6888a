import type { ImEvent } from '@im-approval/plugin-im-approval-node';
import type { Knex } from 'knex';
import type { EventInbox, InboxEvent } from './EventInbox';
import type { Timestamp } from './rows';
import { boundedKey, storable } from './storableText';

const INBOX = 'im_approval_event_inbox';
/** SQLite binds at most 999 variables per statement in older builds; stay well below. */
const CHUNK = 200;

interface InboxRow {
  integration_id: string;
  event_id: string;
  instance_id: string;
  source: InboxEvent['source'];
  attempts: number;
  next_attempt_at: Timestamp;
}

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK)
    out.push(items.slice(i, i + CHUNK));
  return out;
}

export class DatabaseEventInbox implements EventInbox {
  constructor(private readonly knex: Knex) {}

  async record(
    integration: string,
    events: ImEvent[],
    source: InboxEvent['source'],
    leaseMs: number,
  ) {
    const now = new Date();
    const unique = new Map(
      events.map(event => [boundedKey(event.eventId), event]),
    );
    const fresh: ImEvent[] = [];
    for (const batch of chunks([...unique.entries()])) {
      const inserted: Array<{ event_id: string }> = await this.knex(INBOX)
        .insert(
          batch.map(([eventId, event]) => ({
            integration_id: integration,
            event_id: eventId,
            instance_id: storable(event.instanceId),
            source,
            received_at: now,
            next_attempt_at: new Date(now.getTime() + leaseMs),
            attempts: 1,
          })),
        )
        .onConflict(['integration_id', 'event_id'])
        .ignore()
        .returning('event_id');
      for (const { event_id } of inserted) fresh.push(unique.get(event_id)!);
    }
    return fresh;
  }

  async claimDue(limit: number, leaseMs: number): Promise<InboxEvent[]> {
    const now = new Date();
    const due: InboxRow[] = await this.knex(INBOX)
      .whereNull('processed_at')
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at')
      .limit(limit);
    const claimed: InboxEvent[] = [];
    for (const row of due) {
      // Conditional on the time it was due at: of several replicas, one moves it on.
      const updated = await this.knex(INBOX)
        .where({
          integration_id: row.integration_id,
          event_id: row.event_id,
          next_attempt_at: row.next_attempt_at,
        })
        .whereNull('processed_at')
        .update({
          next_attempt_at: new Date(now.getTime() + leaseMs),
          attempts: row.attempts + 1,
        });
      if (updated === 1) {
        claimed.push({
          integration: row.integration_id,
          eventId: row.event_id,
          instanceId: row.instance_id,
          source: row.source,
          attempts: row.attempts + 1,
        });
      }
    }
    return claimed;
  }

  async done(integration: string, eventIds: string[]) {
    const processedAt = new Date();
    for (const batch of chunks(eventIds.map(boundedKey))) {
      await this.knex(INBOX)
        .where({ integration_id: integration })
        .whereIn('event_id', batch)
        .update({ processed_at: processedAt, last_error: null });
    }
  }

  async retryLater(
    integration: string,
    eventIds: string[],
    error: string,
    delayMs: number,
  ) {
    const next = new Date(Date.now() + delayMs);
    for (const batch of chunks(eventIds.map(boundedKey))) {
      await this.knex(INBOX)
        .where({ integration_id: integration })
        .whereIn('event_id', batch)
        .whereNull('processed_at')
        .update({ next_attempt_at: next, last_error: storable(error) });
    }
  }

  async prune(before: Date) {
    return this.knex(INBOX)
      .whereNotNull('processed_at')
      .where('received_at', '<', before)
      .delete();
  }
}
