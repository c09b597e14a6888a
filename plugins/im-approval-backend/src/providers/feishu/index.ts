import type { FeishuIntegration } from '@im-approval/plugin-im-approval-common';
import type { ImProvider } from '@im-approval/plugin-im-approval-node';
import { FeishuClient } from './FeishuClient';

export const feishuProvider: ImProvider<FeishuIntegration> = {
  id: 'feishu',
  connectionModes: ['callback', 'poll'],
  createClient: (integration, deps) => new FeishuClient(integration, deps),
};
