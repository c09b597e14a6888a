import type { LoggerService } from '@backstage/backend-plugin-api';
import type { NotificationService } from '@backstage/plugin-notifications-node';
import {
  approvalPagePath,
  describeDecider,
  describeRequester,
  type Approval,
} from '@im-approval/plugin-im-approval-common';

const OUTCOMES: Record<Approval['status'], string> = {
  pending: 'waits for a decision',
  approved: 'Approved',
  rejected: 'Rejected',
  canceled: 'Canceled',
  expired: 'Expired',
  failed: 'Failed',
};

/**
 * Backstage notifications for the catalog users of an approval: its approvers when it waits on
 * them, and, when it is decided, expires or fails, the requester (and the approvers' notification
 * is updated in place: one per approval, by scope). A notification that cannot be sent is logged;
 * the approval goes on.
 */
export class ApprovalNotifications {
  constructor(
    private readonly notifications: NotificationService,
    private readonly logger: LoggerService,
  ) {}

  requested(approval: Approval) {
    if (approval.approverRefs.length === 0) return;
    const by = approval.requester
      ? describeRequester(approval.requester)
      : approval.context.caller;
    this.send(approval, approval.approverRefs, {
      title: `Approval needed: ${approval.title}`,
      description: `${by} asks for your approval in ${approval.provider}, for ${approval.context.repository}; decide there.`,
      severity: 'high',
    });
  }

  finished(approval: Approval) {
    const outcome = `${OUTCOMES[approval.status]}: ${approval.title}`;
    const decider = describeDecider(approval);
    const description = [
      decider ? `By ${decider}` : undefined,
      approval.comment ? `"${approval.comment}"` : undefined,
      approval.error ?? undefined,
    ]
      .filter(Boolean)
      .join('. ');
    const requester = approval.requester?.entityRef;
    if (requester)
      this.send(approval, [requester], {
        title: outcome,
        description,
        severity: approval.status === 'approved' ? 'normal' : 'high',
      });
    const approvers = approval.approverRefs.filter(ref => ref !== requester);
    if (approvers.length > 0)
      this.send(approval, approvers, {
        title: `No longer waiting on you — ${outcome}`,
        description,
        severity: 'low',
      });
  }

  private send(
    approval: Approval,
    entityRef: string[],
    payload: {
      title: string;
      description: string;
      severity: 'high' | 'normal' | 'low';
    },
  ) {
    this.notifications
      .send({
        recipients: { type: 'entity', entityRef },
        payload: {
          ...payload,
          link: approvalPagePath(approval.id),
          topic: 'IM approvals',
          scope: `im-approval:${approval.id}`,
        },
      })
      .catch(error =>
        this.logger.warn(
          `Could not notify ${entityRef.join(', ')} about approval ${approval.id}: ${(error as Error).message}`,
        ),
      );
  }
}
