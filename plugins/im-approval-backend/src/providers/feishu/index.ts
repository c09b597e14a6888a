import {
  PROVIDER_CONNECTION_MODES,
  type FeishuIntegration,
} from '@im-approval/plugin-im-approval-common';
import type { ImProvider } from '@im-approval/plugin-im-approval-node';
import { FeishuClient } from './FeishuClient';

export const feishuProvider: ImProvider<FeishuIntegration> = {
  id: 'feishu',
  connectionModes: PROVIDER_CONNECTION_MODES.feishu,
  // Instance reads allow 1000/min; leave room for creates, subscribes and user reads.
  reconcileReadsPerMinute: 600,
  // and 50 a second.
  reconcileReadsPerSecond: 25,
  // Feishu lets the app approve or reject an approver's own task for them.
  cards: 'decide',
  createClient: (integration, deps) => new FeishuClient(integration, deps),
};
