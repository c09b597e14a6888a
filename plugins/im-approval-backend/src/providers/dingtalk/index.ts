import {
  PROVIDER_CONNECTION_MODES,
  type DingtalkIntegration,
} from '@im-approval/plugin-im-approval-common';
import type { ImProvider } from '@im-approval/plugin-im-approval-node';
import { DingtalkClient } from './DingtalkClient';

export const dingtalkProvider: ImProvider<DingtalkIntegration> = {
  id: 'dingtalk',
  connectionModes: PROVIDER_CONNECTION_MODES.dingtalk,
  // DingTalk's standard edition allows an app 20 calls a second of each API: half for the reconciler.
  reconcileReadsPerMinute: 600,
  reconcileReadsPerSecond: 10,
  // The app executes the approver's own task for them.
  cards: 'decide',
  cardsNeed: integration => {
    if (!integration.cardTemplateId)
      return `set cardTemplateId on integration "${integration.id}": DingTalk makes cards from a template built in its card designer (see the README)`;
    if (integration.connectionMode !== 'stream')
      return `DingTalk card clicks reach the backend over Stream: set connectionMode to stream on integration "${integration.id}"`;
    return undefined;
  },
  createClient: (integration, deps) => new DingtalkClient(integration, deps),
};
