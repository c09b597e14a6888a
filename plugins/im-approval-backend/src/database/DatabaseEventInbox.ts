import type { ImEvent } from '@im-approval/plugin-im-approval-node';
import type { Knex } from 'knex';
import type { EventInbox, InboxEvent } from './EventInbox';
import type { Timestamp } from './rows';
import { StatementBatch } from './StatementBatch';
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

interface NewInboxRow {
  integration_id: string;
  event_id: string;
  instance_id: string;
  source: InboxEvent['source'];
  received_at: Date;
  next_attempt_at: Date;
  attempts: number;
}

type InboxKey = Pick<InboxRow, 'integration_id' | 'event_id'>;
const keyOf = (row: InboxKey) => `${row.integration_id}\u0001${row.event_id}`;

function byIntegration(keys: InboxKey[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const { integration_id, event_id } of keys)
    groups.set(integration_id, [
      ...(groups.get(integration_id) ?? []),
      event_id,
    ]);
  return groups;
}

export class DatabaseEventInbox implements EventInbox {
  /** Whether each row was new: of a burst of callbacks, one insert records them all. */
  private readonly inserts = new StatementBatch<NewInboxRow, boolean>(
    rows => this.insertNew(rows),
    CHUNK,
  );
  private readonly completions = new StatementBatch<InboxKey, void>(
    async keys => {
      const processedAt = new Date();
      for (const [integration, eventIds] of byIntegration(keys))
        await this.knex(INBOX)
          .where({ integration_id: integration })
          .whereIn('event_id', eventIds)
          .update({ processed_at: processedAt, last_error: null });
      return keys.map(() => undefined);
    },
    CHUNK,
  );

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
    const recorded = await Promise.all(
      [...unique].map(([eventId, event]) =>
        this.inserts.add({
          integration_id: integration,
          event_id: eventId,
          instance_id: storable(event.instanceId),
          source,
          received_at: now,
          next_attempt_at: new Date(now.getTime() + leaseMs),
          attempts: 1,
        }),
      ),
    );
    return [...unique.values()].filter((_, i) => recorded[i]);
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
    await Promise.all(
      eventIds.map(eventId =>
        this.completions.add({
          integration_id: integration,
          event_id: boundedKey(eventId),
        }),
      ),
    );
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

  /** Inserts what is not recorded yet; answers, row by row, whether it was new (the first of its key here). */
  private async insertNew(rows: NewInboxRow[]): Promise<boolean[]> {
    const first = new Map<string, NewInboxRow>();
    for (const row of rows)
      if (!first.has(keyOf(row))) first.set(keyOf(row), row);
    const inserted = new Set<string>();
    for (const batch of chunks([...first.values()])) {
      const keys: InboxKey[] = await this.knex(INBOX)
        .insert(batch)
        .onConflict(['integration_id', 'event_id'])
        .ignore()
        .returning(['integration_id', 'event_id']);
      for (const key of keys) inserted.add(keyOf(key));
    }
    return rows.map(
      row => inserted.has(keyOf(row)) && first.get(keyOf(row)) === row,
    );
  }
}
