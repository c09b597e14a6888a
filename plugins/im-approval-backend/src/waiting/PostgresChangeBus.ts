import type { LoggerService } from '@backstage/backend-plugin-api';
import type { Knex } from 'knex';
import { StatementBatch } from '../database/StatementBatch';
import type { ChangeBus } from './ChangeBus';

/** Approvals' channel; integrations have one of their own (`INTEGRATIONS_CHANNEL`). */
const CHANNEL = 'im_approval_changed';
export const INTEGRATIONS_CHANNEL = 'im_approval_integration_changed';
/** PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more. */
const MAX_PAYLOAD_BYTES = 7_999;
/** The longest id a channel carries: an integration id (64 ASCII characters; approval ids are uuids). */
const MAX_ID_LENGTH = 64;
/** Ids per notification: that many of the longest, with a comma between each two, fit one payload. */
export const IDS_PER_NOTIFICATION = Math.floor(
  (MAX_PAYLOAD_BYTES + 1) / (MAX_ID_LENGTH + 1),
);
const MAX_RECONNECT_DELAY_MS = 10_000;

interface PgNotification {
  channel: string;
  payload?: string;
}

interface PgClient {
  query(sql: string): Promise<unknown>;
  on(event: 'notification', listener: (message: PgNotification) => void): void;
  on(event: 'error' | 'end', listener: (error?: Error) => void): void;
  removeAllListeners(): void;
  end(): Promise<void>;
}

/**
 * PostgreSQL LISTEN/NOTIFY across replicas. Holds one connection of its own, outside the pool,
 * and reconnects with backoff; after a reconnect every waiter re-reads, since notifications
 * sent while disconnected are gone.
 */
export class PostgresChangeBus implements ChangeBus {
  private client?: PgClient;
  private stopped = false;
  private reconnectTimer?: NodeJS.Timeout;
  /** Changes of the same turn go out as one notification: one round trip for a burst of decisions. */
  private readonly notifications = new StatementBatch<string, void>(
    async ids => {
      await this.knex.raw('select pg_notify(?, ?)', [
        this.channel,
        ids.join(','),
      ]);
      return ids.map(() => undefined);
    },
    IDS_PER_NOTIFICATION,
  );

  constructor(
    private readonly knex: Knex,
    private readonly logger: LoggerService,
    /** A constant, never caller input: LISTEN takes no bind parameter. */
    private readonly channel: string = CHANNEL,
  ) {}

  async publish(approvalId: string) {
    await this.notifications.add(approvalId);
  }

  async start(listener: { onChange(approvalId: string): void; onGap(): void }) {
    await this.connect(listener, 0);
  }

  async stop() {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    if (client) await discard(client);
  }

  private async connect(
    listener: { onChange(approvalId: string): void; onGap(): void },
    attempt: number,
  ) {
    if (this.stopped) return;
    let client: PgClient | undefined;
    try {
      client = await (
        this.knex.client as { acquireRawConnection(): Promise<PgClient> }
      ).acquireRawConnection();
      // Stopped meanwhile: stop() could not end a connection it did not know of.
      if (this.stopped) {
        await discard(client);
        return;
      }
      const held = client;
      client.on('notification', message => {
        if (message.channel === this.channel && message.payload)
          for (const id of message.payload.split(',')) listener.onChange(id);
      });
      const onLost = (error?: Error) => {
        if (this.stopped || this.client !== held) return;
        this.logger.warn(
          `Lost the PostgreSQL LISTEN connection for ${this.channel}; reconnecting: ${error?.message ?? 'closed'}`,
        );
        void discard(held);
        this.client = undefined;
        this.scheduleReconnect(listener, 1);
      };
      client.on('error', onLost);
      client.on('end', onLost);
      await client.query(`LISTEN ${this.channel}`);
      if (this.stopped) {
        await discard(client);
        return;
      }
      this.client = client;
      if (attempt > 0) {
        this.logger.info(
          `PostgreSQL LISTEN connection for ${this.channel} restored`,
        );
        listener.onGap();
      }
    } catch (error) {
      // A connection whose LISTEN failed is of no use, and no one else would end it.
      if (client) await discard(client);
      if (this.stopped) return;
      if (attempt === 0) throw error;
      this.logger.warn(
        `Could not restore the PostgreSQL LISTEN connection for ${this.channel}: ${(error as Error).message}`,
      );
      this.scheduleReconnect(listener, attempt + 1);
    }
  }

  private scheduleReconnect(
    listener: { onChange(approvalId: string): void; onGap(): void },
    attempt: number,
  ) {
    const delay = Math.min(MAX_RECONNECT_DELAY_MS, 250 * 2 ** (attempt - 1));
    this.reconnectTimer = setTimeout(
      () => void this.connect(listener, attempt),
      delay,
    );
  }
}

async function discard(client: PgClient) {
  client.removeAllListeners();
  await client.end().catch(() => undefined);
}
