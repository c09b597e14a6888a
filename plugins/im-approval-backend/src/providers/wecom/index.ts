import {
  PROVIDER_CONNECTION_MODES,
  type WecomIntegration,
} from '@im-approval/plugin-im-approval-common';
import type { ImProvider } from '@im-approval/plugin-im-approval-node';
import { WecomClient } from './WecomClient';

export const wecomProvider: ImProvider<WecomIntegration> = {
  id: 'wecom',
  connectionModes: PROVIDER_CONNECTION_MODES.wecom,
  // The OA APIs allow 600 calls a minute per app; keep a third for creating requests and lookups.
  reconcileReadsPerMinute: 400,
  // WeCom cannot act on a task for the approver: the card links to the request instead.
  cards: 'link',
  createClient: (integration, deps) => new WecomClient(integration, deps),
};
