import type {
  LoggerService,
  SchedulerService,
} from '@backstage/backend-plugin-api';
import { NotFoundError } from '@backstage/errors';
import type { Integration } from '@im-approval/plugin-im-approval-common';
import type {
  ImCallbackRequest,
  ImEvent,
} from '@im-approval/plugin-im-approval-node';
import type { ApprovalStore } from '../database/ApprovalStore';
import type { EventInbox, InboxEvent } from '../database/EventInbox';
import type { ApprovalTransitions } from './ApprovalTransitions';
import type { SettingsSource } from './SettingsSource';

/** How long the replica that recorded an event has to process it before another may. */
const LEASE_MS = 10_000;
const RETRY_MS = [1_000, 5_000, 30_000, 120_000, 600_000];
const SWEEP_BATCH = 200;

export interface ImEventIntakeOptions {
  store: ApprovalStore;
  inbox: EventInbox;
  settings: SettingsSource;
  transitions: ApprovalTransitions;
  logger: LoggerService;
}

/**
 * What IMs push: callbacks and events over held connections. An event is a doorbell: it names an
 * instance that changed, and the instance is read from the IM before anything moves, so a forged,
 * repeated or reordered event can at worst cause a read.
 *
 * Events are recorded in the inbox before the IM is answered and processed after it, so the IM's
 * answer deadline is never spent on a call back to the IM, and nothing acknowledged is lost: what a
 * crash leaves unprocessed is claimed by a sweep on any replica.
 */
export class ImEventIntake {
  /** Instance reads in progress here, so a burst of events for one instance costs one read, not one each. */
  private readonly reading = new Map<string, Promise<void>>();
  private readonly background = new Set<Promise<void>>();
  private readonly receivedListeners: Array<(integrationId: string) => void> =
    [];

  constructor(private readonly options: ImEventIntakeOptions) {}

  /** Hears of every verified push from an IM (callback or connection), events or not. */
  onReceived(listener: (integrationId: string) => void) {
    this.receivedListeners.push(listener);
  }

  /** Verifies an IM callback and records its events; the answer for the IM follows at once. */
  async handleCallback(
    provider: string,
    integrationId: string,
    request: ImCallbackRequest,
  ) {
    const integration = await this.options.settings.integration(integrationId);
    if (!integration || integration.provider !== provider) {
      throw new NotFoundError(
        `There is no ${provider} integration "${integrationId}"`,
      );
    }
    const { reply, events } = await this.options.transitions
      .clientOf(integration)
      .handleCallback(request);
    await this.apply(integration, events, 'callback');
    return reply;
  }

  /** Records events durably and starts processing them; resolves once recorded, which is when the IM may be answered. */
  async apply(
    integration: Integration,
    events: ImEvent[],
    source: InboxEvent['source'],
  ) {
    for (const listener of this.receivedListeners) listener(integration.id);
    if (events.length === 0) return;
    const fresh = await this.options.inbox.record(
      integration.id,
      events,
      source,
      LEASE_MS,
    );
    if (fresh.length > 0)
      this.inBackground(
        this.process(
          integration,
          fresh.map(event => ({ ...event, source })),
        ),
      );
  }

  /** Claims what is due (left by a crash, or failed before) and processes it; returns how many events. */
  async sweep(): Promise<number> {
    const due = await this.options.inbox.claimDue(SWEEP_BATCH, LEASE_MS);
    const byIntegration = new Map<string, InboxEvent[]>();
    for (const event of due)
      byIntegration.set(event.integration, [
        ...(byIntegration.get(event.integration) ?? []),
        event,
      ]);
    for (const [id, events] of byIntegration) {
      const integration = await this.options.settings.integration(id);
      if (!integration) {
        await this.options.inbox.done(
          id,
          events.map(e => e.eventId),
        ); // its integration was removed
        continue;
      }
      await this.process(
        integration,
        events,
        Math.max(...events.map(e => e.attempts)),
      );
    }
    return due.length;
  }

  async schedule(scheduler: SchedulerService) {
    // Local: every replica sweeps; a claim hands each event to one of them.
    await scheduler.scheduleTask({
      id: 'im-approval-event-inbox',
      scope: 'local',
      frequency: { seconds: 2 },
      timeout: { minutes: 5 },
      fn: async () => {
        await this.sweep();
      },
    });
  }

  /** Waits for processing started here to end (shutdown, tests). */
  async settled() {
    while (this.background.size > 0)
      await Promise.allSettled([...this.background]);
  }

  private async process(
    integration: Integration,
    events: Array<ImEvent & Pick<InboxEvent, 'source'>>,
    attempts = 1,
  ) {
    const byInstance = new Map<
      string,
      { source: InboxEvent['source']; eventIds: string[] }
    >();
    for (const { instanceId, eventId, source } of events) {
      const entry = byInstance.get(instanceId) ?? { source, eventIds: [] };
      entry.eventIds.push(eventId);
      byInstance.set(instanceId, entry);
    }
    await Promise.all(
      [...byInstance].map(async ([instanceId, { source, eventIds }]) => {
        try {
          await this.followInstance(integration, instanceId, source);
          await this.options.inbox.done(integration.id, eventIds);
        } catch (error) {
          const message = (error as Error).message;
          const delay = RETRY_MS[Math.min(attempts - 1, RETRY_MS.length - 1)];
          this.options.logger.warn(
            `IM event for ${integration.provider} instance ${JSON.stringify(instanceId)} not applied yet (retried in ${delay / 1000}s): ${message}`,
          );
          await this.options.inbox.retryLater(
            integration.id,
            eventIds,
            message,
            delay,
          );
        }
      }),
    );
  }

  /** Reads the instance (once for every event that arrives while a read is on its way) and moves its approval on. */
  private async followInstance(
    integration: Integration,
    instanceId: string,
    source: InboxEvent['source'],
  ) {
    const key = `${integration.id}\u0001${instanceId}`;
    const earlier = this.reading.get(key);
    if (earlier) await earlier.catch(() => undefined);
    const { store, transitions } = this.options;
    const read = (async () => {
      const approval = await store.findByInstance(integration.id, instanceId);
      // After an earlier read decided it, a later event of the same decision needs no read of its own.
      if (approval?.status === 'pending')
        await transitions.followIm(
          approval,
          transitions.clientOf(integration),
          source,
          instanceId,
        );
    })();
    this.reading.set(key, read);
    try {
      await read;
    } finally {
      if (this.reading.get(key) === read) this.reading.delete(key);
    }
  }

  private inBackground(work: Promise<void>) {
    const tracked = work.catch(error =>
      this.options.logger.error(
        `IM event processing failed: ${(error as Error).message}`,
      ),
    );
    this.background.add(tracked);
    tracked.finally(() => this.background.delete(tracked));
  }
}
