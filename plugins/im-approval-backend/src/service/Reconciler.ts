import type {
  LoggerService,
  SchedulerService,
  SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import {
  isTerminal,
  type Integration,
} from '@im-approval/plugin-im-approval-common';
import { ImApiError } from '@im-approval/plugin-im-approval-node';
import type { ApprovalStore } from '../database/ApprovalStore';
import type { ApprovalTransitions } from './ApprovalTransitions';
import type { ImClients } from './ImClients';
import type { ImInstanceOpener } from './ImInstanceOpener';

/** An approval still without an IM instance after this long is retried. */
const STRANDED_AFTER_MS = 30_000;

export interface ReconcilerOptions {
  store: ApprovalStore;
  clients: ImClients;
  transitions: ApprovalTransitions;
  opener: ImInstanceOpener;
  logger: LoggerService;
  /** The clock the reconciler paces its reads by; a test's may only pretend to wait. */
  clock?: Clock;
}

interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: Clock = {
  now: () => Date.now(),
  sleep: ms => new Promise<void>(resolve => setTimeout(resolve, ms)),
};

/** Spaces calls so that no second holds more than `perSecond` of them. */
class Pace {
  private readonly recent: number[] = [];

  constructor(
    private readonly perSecond: number,
    private readonly clock: Clock,
  ) {}

  async take() {
    if (!Number.isFinite(this.perSecond)) return;
    const now = this.clock.now();
    while (this.recent.length > 0 && this.recent[0] <= now - 1000)
      this.recent.shift();
    if (this.recent.length >= this.perSecond) {
      await this.clock.sleep(this.recent[0] + 1000 - now);
      this.recent.shift();
    }
    this.recent.push(this.clock.now());
  }
}

/**
 * Reads pending approvals from their IMs, so a lost callback never strands one, and retries IM
 * instances whose creation failed transiently. Each integration reads at most what its IM's rate
 * limit allows per pass, spaced to its per-second limit; the ones left over are the least recently
 * read, so they come first next pass.
 */
export class Reconciler {
  constructor(private readonly options: ReconcilerOptions) {}

  /** Runs a pass on the schedule, on one replica at a time (the scheduler's lock). */
  async schedule(
    scheduler: SchedulerService,
    schedule: SchedulerServiceTaskScheduleDefinition,
    pass: { batchSize: number; intervalSeconds: number },
  ) {
    await scheduler.scheduleTask({
      id: 'im-approval-reconciler',
      ...schedule,
      fn: async () => {
        const { checked, decided } = await this.reconcile(pass);
        if (decided > 0)
          this.options.logger.info(
            `Reconciler found ${decided} decision(s) among ${checked} pending approval(s)`,
          );
      },
    });
  }

  async reconcile({
    batchSize,
    intervalSeconds,
  }: {
    batchSize: number;
    intervalSeconds: number;
  }) {
    const { store, clients, transitions, opener, logger } = this.options;
    const pending = await store.listPending({ limit: batchSize });
    const budgets = new Map<string, number>();
    const paces = new Map<string, Pace>();
    // Looked up once per pass: a database-managed integration costs a query and decrypting its secrets.
    const integrations = new Map<string, Promise<Integration>>();
    let checked = 0;
    let decided = 0;
    const stillPending: string[] = [];
    for (const approval of pending) {
      try {
        if (!integrations.has(approval.integration))
          integrations.set(
            approval.integration,
            transitions.integrationOf(approval.integration),
          );
        const integration = await integrations.get(approval.integration)!;
        const budget =
          budgets.get(integration.id) ??
          clients.readsPerPass(integration, intervalSeconds);
        if (budget <= 0) continue;
        budgets.set(integration.id, budget - 1);
        if (!paces.has(integration.id))
          paces.set(
            integration.id,
            new Pace(
              clients.readsPerSecond(integration),
              this.options.clock ?? realClock,
            ),
          );
        await paces.get(integration.id)!.take();
        checked++;
        let result = approval;
        if (approval.imInstanceId) {
          result = await transitions.followIm(
            approval,
            transitions.clientOf(integration),
            'reconciler',
          );
        } else if (
          Date.now() - Date.parse(approval.createdAt) >
          STRANDED_AFTER_MS
        ) {
          result = await opener.open(approval, 'reconciler');
        }
        if (isTerminal(result.status)) decided++;
        else stillPending.push(approval.id);
      } catch (error) {
        logger.warn(
          `Could not reconcile approval ${approval.id}: ${(error as Error).message}`,
        );
        if (error instanceof ImApiError && error.kind === 'rate_limited') break;
      }
    }
    await store.touch(stillPending);
    return { checked, decided };
  }
}
