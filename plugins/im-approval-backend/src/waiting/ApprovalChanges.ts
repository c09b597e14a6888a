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
   * For a bus that can lose a notification (a peer's publish that failed; the bus itself wakes
   * everyone after a gap it knows of): every `everyMs` (default 30 s) one query reads the version of
   * every waited approval, and only the waiters that read another version re-read. Without it,
   * nothing is rechecked: in one process no notification can be lost.
   */
  recheck?: { versions: ApprovalVersions; everyMs?: number };
}

/** Announces that an approval changed: to this process's waiters at once, to other replicas through the bus. */
export class ApprovalChanges {
  private readonly hub = new WaiterHub();
  private timer: NodeJS.Timeout | undefined;
  private rechecking = false;

  constructor(
    private readonly bus: ChangeBus,
    private readonly logger: LoggerService,
    private readonly options: ApprovalChangesOptions = {},
  ) {}

  async start() {
    await this.bus.start({
      onChange: id => this.hub.wake(id),
      onGap: () => this.hub.wakeAll(),
    });
    const { recheck } = this.options;
    if (recheck)
      this.timer = setInterval(
        () => this.recheck(recheck.versions),
        recheck.everyMs ?? 30_000,
      ).unref();
  }

  stop() {
    clearInterval(this.timer);
    this.timer = undefined;
    return this.bus.stop();
  }

  private async recheck(versions: ApprovalVersions) {
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
