import { NotFoundError } from '@backstage/errors';
import type { Integration } from '@im-approval/plugin-im-approval-common';
import type { ImCallbackRequest, ImEvent } from '@im-approval/plugin-im-approval-node';
import type { ApprovalStore } from '../store/ApprovalStore';
import type { ApprovalTransitions } from './ApprovalTransitions';
import type { SettingsSource } from './SettingsSource';

/**
 * What IMs push: callbacks and events over held connections. An event is a doorbell: it names an
 * instance that changed, and the instance is read from the IM before anything moves, so a forged
 * or reordered event can at worst cause a read.
 */
export class ImEventIntake {
  constructor(private readonly options: { store: ApprovalStore; settings: SettingsSource; transitions: ApprovalTransitions }) {}

  /** Verifies an IM callback and applies its events before the IM gets its answer, so an acknowledged decision is never lost. */
  async handleCallback(provider: string, integrationId: string, request: ImCallbackRequest) {
    const integration = await this.options.settings.integration(integrationId);
    if (!integration || integration.provider !== provider) {
      throw new NotFoundError(`There is no ${provider} integration "${integrationId}"`);
    }
    const { reply, events } = await this.options.transitions.clientOf(integration).handleCallback(request);
    await this.apply(integration, events, 'callback');
    return reply;
  }

  /**
   * Redelivered events are recognised by their IM event id; an event whose read fails is not
   * recorded, so its redelivery counts.
   */
  async apply(integration: Integration, events: ImEvent[], source: 'callback' | 'connection') {
    const { store, transitions } = this.options;
    const client = transitions.clientOf(integration);
    for (const event of events) {
      if (await store.hasReceipt(integration.id, event.eventId)) continue;
      const approval = await store.findByInstance(integration.id, event.instanceId);
      if (approval?.status === 'pending') await transitions.followIm(approval, client, source);
      await store.addReceipt(integration.id, event.eventId);
    }
  }
}
