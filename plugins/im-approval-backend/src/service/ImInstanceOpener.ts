import type { LoggerService } from '@backstage/backend-plugin-api';
import type { Approval, TimelineSource } from '@im-approval/plugin-im-approval-common';
import { ImApiError } from '@im-approval/plugin-im-approval-node';
import type { ApprovalStore } from '../database/ApprovalStore';
import type { ApprovalTransitions } from './ApprovalTransitions';
import type { SettingsSource } from './SettingsSource';

/**
 * Creates the IM instance of a stored approval: right after the API stores it, and again from the
 * reconciler for one whose IM failed transiently. A transient failure is kept on the approval (and
 * in its timeline) for the next try; a permanent one fails the approval with the IM's sentence.
 */
export class ImInstanceOpener {
  constructor(
    private readonly options: { store: ApprovalStore; settings: SettingsSource; transitions: ApprovalTransitions; logger: LoggerService },
  ) {}

  async open(approval: Approval, source: TimelineSource): Promise<Approval> {
    const { store, settings, transitions, logger } = this.options;
    try {
      const template = await settings.template(approval.template);
      if (!template) throw new Error(`template "${approval.template}" no longer exists`);
      const client = transitions.clientOf(await transitions.integrationOf(approval.integration));
      const instance = await client.createInstance({
        approvalId: approval.id,
        form: template.form,
        title: approval.title,
        fields: approval.form,
        approvers: approval.approvers,
        approverMode: template.approverMode,
        initiator: template.initiator,
      });
      const attached = await store.attachInstance(approval.id, instance, {
        type: 'im_instance_created',
        source,
        message: `${approval.provider} instance ${instance.instanceId}`,
      });
      return attached ?? (await store.get(approval.id)) ?? approval;
    } catch (error) {
      const message = (error as Error).message;
      if (error instanceof ImApiError && error.transient) {
        logger.warn(`Approval ${approval.id}: ${message}`);
        await store.recordImError(approval.id, { type: 'im_error', source, message });
        return { ...approval, error: message };
      }
      logger.error(`Approval ${approval.id} failed: ${message}`);
      const failed = await transitions.finish(
        approval,
        { status: 'failed', error: message },
        { type: 'failed', source, message },
        { revoke: false },
      );
      return failed ?? (await store.get(approval.id)) ?? approval;
    }
  }
}
