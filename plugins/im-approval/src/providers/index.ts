import type { ProviderId } from '@im-approval/plugin-im-approval-common';
import { dingtalk } from './dingtalk';
import { feishu } from './feishu';
import type { ProviderDescriptor } from './ProviderDescriptor';
import { wecom } from './wecom';

export { inMode } from './ProviderDescriptor';
export type {
  ConsoleStep,
  ProviderDescriptor,
  ProviderField,
} from './ProviderDescriptor';

/** Every IM the UI can set up; the type makes a provider added to the common schemas show up here. */
export const PROVIDERS: {
  [P in ProviderId]: ProviderDescriptor & { provider: P };
} = {
  feishu: { ...feishu, provider: 'feishu' },
  dingtalk: { ...dingtalk, provider: 'dingtalk' },
  wecom: { ...wecom, provider: 'wecom' },
};

export function providerDescriptor(provider: ProviderId): ProviderDescriptor {
  return PROVIDERS[provider];
}
