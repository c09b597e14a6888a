import type { LoggerService } from '@backstage/backend-plugin-api';
import type { SignalsService } from '@backstage/plugin-signals-node';
import {
  APPROVAL_SIGNAL_CHANNEL,
  type Approval,
  type ApprovalSignal,
} from '@im-approval/plugin-im-approval-common';

/**
 * Tells open pages that an approval changed, through Backstage signals (on every replica, over the
 * events backend). Sent to everyone: it names only the id and status, and a page reads the rest
 * through the API with its own permissions.
 */
export class ApprovalSignals {
  constructor(
    private readonly signals: SignalsService,
    private readonly logger: LoggerService,
  ) {}

  changed(approval: Approval) {
    this.signals
      .publish<ApprovalSignal>({
        recipients: { type: 'broadcast' },
        channel: APPROVAL_SIGNAL_CHANNEL,
        message: { id: approval.id, status: approval.status },
      })
      .catch(error => {
        // Pages still show the change at their next read.
        this.logger.warn(
          `Could not signal the change of approval ${approval.id}: ${(error as Error).message}`,
        );
      });
  }
}
