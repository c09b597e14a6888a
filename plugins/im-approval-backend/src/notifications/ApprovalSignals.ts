import type { LoggerService } from '@backstage/backend-plugin-api';
import type { SignalsService } from '@backstage/plugin-signals-node';
import {
  APPROVAL_SIGNAL_BATCH,
  APPROVAL_SIGNAL_CHANNEL,
  type Approval,
  type ApprovalSignal,
} from '@im-approval/plugin-im-approval-common';

/** How long changes are gathered into one signal: each signal is a write to the events bus. */
const GATHER_MS = 100;

/**
 * Tells open pages that approvals changed, through Backstage signals (on every replica, over the
 * events backend). Changes of the same tenth of a second go together, the latest status of each.
 * Sent to everyone: a signal names only ids and statuses, and a page reads the rest through the
 * API with its own permissions.
 */
export class ApprovalSignals {
  private readonly pending = new Map<string, Approval['status']>();
  private timer?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly signals: SignalsService,
    private readonly logger: LoggerService,
  ) {}

  changed(approval: Approval) {
    this.pending.set(approval.id, approval.status);
    this.timer ??= setTimeout(() => this.flush(), GATHER_MS);
  }

  private flush() {
    this.timer = undefined;
    const changes = [...this.pending].map(([id, status]) => ({ id, status }));
    this.pending.clear();
    for (let i = 0; i < changes.length; i += APPROVAL_SIGNAL_BATCH) {
      const batch = changes.slice(i, i + APPROVAL_SIGNAL_BATCH);
      this.signals
        .publish<ApprovalSignal>({
          recipients: { type: 'broadcast' },
          channel: APPROVAL_SIGNAL_CHANNEL,
          message: { changes: batch },
        })
        .catch(error => {
          // Pages still show the changes at their next read.
          this.logger.warn(
            `Could not signal the change of ${batch.length} approvals: ${(error as Error).message}`,
          );
        });
    }
  }
}
