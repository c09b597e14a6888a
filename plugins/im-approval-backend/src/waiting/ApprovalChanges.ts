import type { LoggerService } from '@backstage/backend-plugin-api';
import type { ChangeBus } from './ChangeBus';
import { WaiterHub } from './WaiterHub';

/** What the recheck compares: a waiter re-reads when its approval's differs from what it read. */
export function approvalVersion(approval: {
  status: string;
  updatedAt: string;
}): string {
  return `${approval.status} ${approval.updatedAt}`;
}

/** The status and last write of each of these approvals that exists. */
export type ApprovalVersions = (
  ids: string[],
) => Promise<Array<{ id: string; status: string; updatedAt: string }>>;

export interface ApprovalChangesOptions {
  /**
   * How often the recheck runs: in case a notification was lost (a peer's publish that failed; the
   * bus itself wakes everyone after a gap it knows of), one query reads the version of every waited
   * approval, and only the waiters that read another version re-read. Default 30 s.
   */
  recheckMs?: number;
  /** Without it, the recheck wakes every waiter. */
  versions?: ApprovalVersions;
}

/** Announces that an approval changed: to this process's waiters at once, to other replicas through the bus. */
export class ApprovalChanges {
  private readonly hub = new WaiterHub();
  private readonly recheckMs: number;
  private timer: NodeJS.Timeout | undefined;
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
    this.timer = setInterval(() => this.recheck(), this.recheckMs).unref();
  }

  stop() {
    clearInterval(this.timer);
    this.timer = undefined;
    return this.bus.stop();
  }

  private async recheck() {
    const { versions } = this.options;
    if (!versions) {
      this.hub.wakeAll();
      return;
    }
    const ids = this.hub.ids();
    if (ids.length === 0 || this.rechecking) return;
    this.rechecking = true;
    try {
      const rows = await versions(ids);
      this.hub.wakeChanged(
        new Map(rows.map(row => [row.id, approvalVersion(row)])),
      );
    } catch (error) {
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
