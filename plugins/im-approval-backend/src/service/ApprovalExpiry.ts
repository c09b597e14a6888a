import type {
  LoggerService,
  SchedulerService,
  SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import {
  formatDuration,
  type Approval,
  type TimelineSource,
} from '@im-approval/plugin-im-approval-common';
import type { ApprovalStore } from '../database/ApprovalStore';
import type { EventInbox } from '../database/EventInbox';
import type { ApprovalTransitions } from './ApprovalTransitions';

/** Processed IM events are kept this long to recognise redeliveries (Feishu retries for hours). */
const EVENT_RETENTION_MS = 7 * 86_400_000;
const BATCH = 100;

/** The server owns every deadline: pending approvals past theirs expire, and their IM instances are revoked. */
export class ApprovalExpiry {
  constructor(
    private readonly options: {
      store: ApprovalStore;
      inbox: EventInbox;
      transitions: ApprovalTransitions;
      logger: LoggerService;
    },
  ) {}

  async schedule(
    scheduler: SchedulerService,
    schedule: SchedulerServiceTaskScheduleDefinition,
  ) {
    await scheduler.scheduleTask({
      id: 'im-approval-expiry',
      ...schedule,
      fn: async () => {
        const expired = await this.expireDue();
        if (expired > 0)
          this.options.logger.info(
            `Expired ${expired} approval(s) past their deadline`,
          );
      },
    });
  }

  /** Expires what is due and forgets old processed IM events; returns how many expired. */
  async expireDue(): Promise<number> {
    const { store } = this.options;
    const due = await store.listExpired(new Date(), BATCH);
    for (const approval of due) await this.expire(approval, 'scheduler');
    await this.options.inbox.prune(new Date(Date.now() - EVENT_RETENTION_MS));
    return due.length;
  }

  /** Expires one approval (the caller knows it is past its deadline); answers it as it now is. */
  async expire(approval: Approval, source: TimelineSource): Promise<Approval> {
    const lifetime =
      (Date.parse(approval.expiresAt) - Date.parse(approval.createdAt)) / 1000;
    const why =
      approval.imInstanceId === null && approval.error
        ? `; the IM request was never created: ${approval.error}`
        : '';
    const expired = await this.options.transitions.finish(
      approval,
      { status: 'expired' },
      {
        type: 'expired',
        source,
        message: `No decision within ${formatDuration(lifetime)}${why}`,
      },
      { revoke: true },
    );
    return expired ?? (await this.options.store.get(approval.id)) ?? approval;
  }
}
