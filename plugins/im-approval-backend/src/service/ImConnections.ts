import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  PROVIDER_CONNECTION_MODES,
  type ConnectionMode,
  type Integration,
  type IntegrationHealth,
  type ProviderId,
} from '@im-approval/plugin-im-approval-common';
import type {
  ImCardClickHandler,
  ImConnection,
  ImConnectionObserver,
  ImEventHandler,
} from '@im-approval/plugin-im-approval-node';
import { isDeepStrictEqual } from 'node:util';
import type { ImClients } from './ImClients';
import { withoutSecrets } from './withoutSecrets';

/** Modes in which the backend holds a connection to the IM instead of being called. */
const HELD_MODES: ReadonlySet<ConnectionMode> = new Set([
  'long-connection',
  'stream',
]);

const MAX_ERROR_LENGTH = 500;

/** The integrations as they are now: those that can be read, and why the others cannot. */
export interface CurrentIntegrations {
  integrations: Integration[];
  unreadable: Array<{ id: string; message: string }>;
}

export interface ImConnectionsOptions {
  clients: ImClients;
  logger: LoggerService;
  load: () => Promise<CurrentIntegrations>;
  onEvents: (integration: Integration) => ImEventHandler;
  /** Card clicks that come over an integration's connection. */
  onCardClick?: (integration: Integration) => ImCardClickHandler;
  /** Backoff between attempts to reopen a connection that failed: doubles from `minMs` up to `maxMs`. */
  retry?: { minMs: number; maxMs: number };
}

/** One version of an integration's connection; a change of its settings makes a new one. */
interface Held {
  integration: Integration;
  connection?: ImConnection;
  state: 'connecting' | 'connected' | 'reconnecting';
  since: Date;
  /** Failed attempts in a row, for the backoff. */
  failures: number;
  /** Which `connect` call the observer's reports must come from to count. */
  generation: number;
  retryTimer?: NodeJS.Timeout;
  /** Whether this version's failure was logged: once is enough, the page shows the rest. */
  logged: boolean;
  closed: boolean;
}

/**
 * The long connections of the integrations that use one (Feishu long connection, DingTalk
 * Stream), kept in step with the integrations: `reconcile` opens those added, reopens those
 * changed and closes those removed. A connection that cannot open is retried with backoff, its
 * error kept for the IM apps page, and never stops the plugin. Each replica holds its own; the IM
 * gives each event to one of them, and the decision reaches waiters on every replica through
 * the change bus, as a callback's does.
 */
export class ImConnections {
  private readonly held = new Map<string, Held>();
  private readonly lastEventAt = new Map<string, Date>();
  private readonly lastError = new Map<string, { message: string; at: Date }>();
  private readonly retry: { minMs: number; maxMs: number };
  private running: Promise<void> = Promise.resolve();
  private queued?: Promise<void>;
  private stopped = false;
  /** The ids the last run could not read, whose errors go when they can be read again. */
  private unreadable = new Set<string>();

  constructor(private readonly options: ImConnectionsOptions) {
    this.retry = options.retry ?? { minMs: 1_000, maxMs: 300_000 };
  }

  /**
   * Brings the held connections in line with the integrations; never rejects. Calls made while
   * one runs share the next run, so a burst of changes costs one more read.
   */
  reconcile(): Promise<void> {
    if (!this.queued) {
      const run = this.running
        .then(() => {
          this.queued = undefined;
          return this.sync();
        })
        // A rejected run would reject every later one chained to it.
        .catch(error =>
          this.options.logger.error(
            `Could not bring the IM connections in line with the integrations: ${(error as Error).message}`,
          ),
        );
      this.queued = run;
      this.running = run;
    }
    return this.queued;
  }

  /** An event (or a verified callback) came from the IM for this integration. */
  received(integrationId: string) {
    this.lastEventAt.set(integrationId, new Date());
  }

  /** What this replica sees of each integration's connection. */
  health(
    integrations: ReadonlyArray<{
      id: string;
      provider: ProviderId;
      connectionMode?: ConnectionMode;
    }>,
  ): IntegrationHealth[] {
    return integrations.map(({ id, provider, ...mode }) => {
      // A view leaves the mode out when it is the provider's default.
      const connectionMode =
        mode.connectionMode ?? PROVIDER_CONNECTION_MODES[provider][0];
      const held = this.held.get(id);
      const lastError = this.lastError.get(id);
      const lastEventAt = this.lastEventAt.get(id);
      const needed = HELD_MODES.has(connectionMode);
      let connection: IntegrationHealth['connection'] = 'not-needed';
      // Unreadable settings open nothing until entered again: waiting would not make it connect.
      if (needed)
        connection = this.unreadable.has(id)
          ? 'unavailable'
          : (held?.state ?? 'connecting');
      return {
        id,
        connectionMode,
        connection,
        ...(needed && held && { since: held.since.toISOString() }),
        ...(lastEventAt && { lastEventAt: lastEventAt.toISOString() }),
        ...(lastError && {
          lastError: {
            message: lastError.message,
            at: lastError.at.toISOString(),
          },
        }),
      };
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
    const held = [...this.held.values()];
    this.held.clear();
    await Promise.all(held.map(h => this.close(h)));
  }

  private async sync() {
    if (this.stopped) return;
    let current: CurrentIntegrations;
    try {
      current = await this.options.load();
    } catch (error) {
      this.options.logger.warn(
        `Could not read the integrations to open their connections: ${(error as Error).message}`,
      );
      return;
    }
    const wanted = new Map(
      current.integrations
        .filter(i => HELD_MODES.has(i.connectionMode))
        .map(i => [i.id, i]),
    );
    for (const { id, message } of current.unreadable) {
      if (this.lastError.get(id)?.message !== message)
        this.lastError.set(id, { message, at: new Date() });
    }
    // Why an integration could not be read is no longer true once it can be.
    const unreadable = new Set(current.unreadable.map(u => u.id));
    for (const id of this.unreadable)
      if (!unreadable.has(id)) this.lastError.delete(id);
    this.unreadable = unreadable;
    const known = new Set([
      ...current.integrations.map(i => i.id),
      ...current.unreadable.map(u => u.id),
    ]);

    for (const [id, held] of this.held) {
      const next = wanted.get(id);
      if (next && isDeepStrictEqual(next, held.integration)) continue;
      this.held.delete(id);
      await this.close(held);
      this.options.logger.info(
        `Integration ${id}: closed its ${held.integration.connectionMode} connection (${next ? 'its settings changed' : 'it no longer uses one'})`,
      );
      // The error was about the settings that just went.
      if (!unreadable.has(id)) this.lastError.delete(id);
    }
    for (const id of [...this.lastEventAt.keys(), ...this.lastError.keys()]) {
      if (!known.has(id)) {
        this.lastEventAt.delete(id);
        this.lastError.delete(id);
      }
    }
    // Side by side: an app that is slow to answer must not hold up the others' connections.
    const opening: Array<Promise<void>> = [];
    for (const [id, integration] of wanted) {
      if (this.held.has(id)) continue;
      const held: Held = {
        integration,
        state: 'connecting',
        since: new Date(),
        failures: 0,
        generation: 0,
        logged: false,
        closed: false,
      };
      this.held.set(id, held);
      opening.push(this.open(held));
    }
    await Promise.allSettled(opening);
  }

  private async open(held: Held) {
    if (held.closed) return;
    const { integration } = held;
    const generation = ++held.generation;
    try {
      const client = this.options.clients.forIntegration(integration);
      if (!client.connect) {
        throw new Error(
          `the ${integration.provider} provider cannot hold a ${integration.connectionMode} connection`,
        );
      }
      const connection = await client.connect(
        this.options.onEvents(integration),
        this.observer(held, generation),
        this.options.onCardClick?.(integration),
      );
      if (held.closed || generation !== held.generation) {
        await connection.close();
        return;
      }
      held.connection = connection;
      this.options.logger.info(
        `Integration ${integration.id} receives ${integration.provider} events over a ${integration.connectionMode} connection`,
      );
    } catch (error) {
      // Unless this attempt already failed through its observer.
      if (generation === held.generation)
        this.failed(held, (error as Error).message);
    }
  }

  private observer(held: Held, generation: number): ImConnectionObserver {
    const current = () => !held.closed && generation === held.generation;
    return {
      connected: () => {
        if (!current()) return;
        if (held.logged)
          this.options.logger.info(
            `Integration ${held.integration.id}: its ${held.integration.connectionMode} connection is open again`,
          );
        held.state = 'connected';
        held.since = new Date();
        held.failures = 0;
        held.logged = false;
      },
      reconnecting: reason => {
        if (!current()) return;
        this.recordError(held, reason);
        if (held.state === 'connected') {
          held.state = 'reconnecting';
          held.since = new Date();
        }
      },
      failed: reason => {
        if (current()) this.failed(held, reason);
      },
    };
  }

  /** Records the failure, closes what is left of the connection and opens it again after the backoff. */
  private failed(held: Held, reason: string) {
    // A connect that fails after stop() or a settings change is about a version no one holds.
    if (held.closed) return;
    const message = this.recordError(held, reason);
    const delayMs = Math.min(
      this.retry.maxMs,
      this.retry.minMs * 2 ** held.failures,
    );
    held.failures++;
    const text = `Integration ${held.integration.id}: could not open its ${held.integration.connectionMode} connection: ${message}; retrying in ${Math.round(delayMs / 1000)}s`;
    if (held.logged) this.options.logger.debug(text);
    else this.options.logger.warn(`${text} (further failures are not logged)`);
    held.logged = true;
    if (held.state === 'connected') {
      held.state = 'reconnecting';
      held.since = new Date();
    }
    const connection = held.connection;
    held.connection = undefined;
    connection?.close().catch(() => undefined);
    // The failed attempt's late reports no longer count, nor does a retry armed before this one.
    const generation = ++held.generation;
    clearTimeout(held.retryTimer);
    held.retryTimer = setTimeout(() => {
      if (generation === held.generation) void this.open(held);
    }, delayMs);
    // A retry must not keep the process alive.
    held.retryTimer.unref();
  }

  private recordError(held: Held, reason: string): string {
    const message = withoutSecrets(held.integration, reason).slice(
      0,
      MAX_ERROR_LENGTH,
    );
    // A closed version's error would outlive it on the page.
    if (!held.closed)
      this.lastError.set(held.integration.id, { message, at: new Date() });
    return message;
  }

  private async close(held: Held) {
    held.closed = true;
    clearTimeout(held.retryTimer);
    const connection = held.connection;
    held.connection = undefined;
    await connection
      ?.close()
      .catch(error =>
        this.options.logger.warn(
          `Integration ${held.integration.id}: closing its connection failed: ${(error as Error).message}`,
        ),
      );
  }
}
