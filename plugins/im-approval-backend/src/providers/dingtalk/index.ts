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
  createClient: (integration, deps) => new DingtalkClient(integration, deps),
};
