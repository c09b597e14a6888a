import type { LoggerService } from '@backstage/backend-plugin-api';
import type { ChangeBus } from './ChangeBus';
import { WaiterHub } from './WaiterHub';

/** Announces that an approval changed: to this process's waiters at once, to other replicas through the bus. */
export class ApprovalChanges {
  private readonly hub = new WaiterHub();

  constructor(
    private readonly bus: ChangeBus,
    private readonly logger: LoggerService,
  ) {}

  async start() {
    await this.bus.start({
      onChange: id => this.hub.wake(id),
      onGap: () => this.hub.wakeAll(),
    });
  }

  stop() {
    return this.bus.stop();
  }

  changed(approvalId: string) {
    this.hub.wake(approvalId);
    this.bus.publish(approvalId).catch(error => {
      // Peers still see the change at their next safety re-read of the approval.
      this.logger.warn(
        `Could not notify other replicas of approval ${approvalId}: ${error.message}`,
      );
    });
  }

  subscribe(approvalId: string) {
    return this.hub.subscribe(approvalId);
  }
}
