import type { LoggerService } from '@backstage/backend-plugin-api';
import type { ChangeBus } from './ChangeBus';
import { WaiterHub } from './WaiterHub';

/** Finds which of the waited approvals were written at or after a moment. */
export type ChangedSince = (ids: string[], since: Date) => Promise<string[]>;

export interface ApprovalChangesOptions {
  /**
   * How often the recheck runs: in case a notification was lost (a peer's publish that failed; the
   * bus itself wakes everyone after a gap it knows of), one query asks which waited approvals were
   * written since the last recheck, and only their waiters re-read. Default 30 s.
   */
  recheckMs?: number;
  /** Without it, the recheck wakes every waiter. */
  changedSince?: ChangedSince;
}

/** Writes a little older than the last recheck count too: a replica's clock may be behind, a commit late. */
const RECHECK_OVERLAP_MS = 60_000;

/** Announces that an approval changed: to this process's waiters at once, to other replicas through the bus. */
export class ApprovalChanges {
  private readonly hub = new WaiterHub();
  private readonly recheckMs: number;
  private timer: NodeJS.Timeout | undefined;
  private lastRecheck = Date.now();
  private rechecking = false;

  constructor(
    private readonly bus: ChangeBus,
    private readonly logger: LoggerService,
    private readonly options: ApprovalChangesOptions = {},
  ) {
    this.recheckMs = options.recheckMs ?? 30_000;
  }

  async start() {
    await this.bus.start({
      onChange: id => this.hub.wake(id),
      onGap: () => this.hub.wakeAll(),
    });
    this.lastRecheck = Date.now();
    this.timer = setInterval(() => this.recheck(), this.recheckMs).unref();
  }

  stop() {
    clearInterval(this.timer);
    this.timer = undefined;
    return this.bus.stop();
  }

  private async recheck() {
    const { changedSince } = this.options;
    if (!changedSince) {
      this.hub.wakeAll();
      return;
    }
    const ids = this.hub.ids();
    const started = Date.now();
    if (ids.length === 0 || this.rechecking) {
      if (!this.rechecking) this.lastRecheck = started;
      return;
    }
    this.rechecking = true;
    try {
      const since = new Date(this.lastRecheck - RECHECK_OVERLAP_MS);
      for (const id of await changedSince(ids, since)) this.hub.wake(id);
      this.lastRecheck = started;
    } catch (error) {
      // The next recheck looks back to the same moment, so nothing is skipped.
      this.logger.warn(
        `Could not recheck the approvals waited on: ${(error as Error).message}`,
      );
    } finally {
      this.rechecking = false;
    }
  }

  changed(approvalId: string) {
    this.hub.wake(approvalId);
    this.bus.publish(approvalId).catch(error => {
      // Peers' waiters still see the change at the next recheck.
      this.logger.warn(
        `Could not notify other replicas of approval ${approvalId}: ${error.message}`,
      );
    });
  }

  subscribe(approvalId: string) {
    return this.hub.subscribe(approvalId);
  }
}
