import { mockServices } from '@backstage/backend-test-utils';
import { integrationSchema } from '@im-approval/plugin-im-approval-common';
import type { ImProvider } from '@im-approval/plugin-im-approval-node';
import { dingtalkProvider } from '../providers/dingtalk';
import { wecomProvider } from '../providers/wecom';
import { ImClients } from './ImClients';

const wecom = integrationSchema.parse({
  id: 'wecom-main',
  provider: 'wecom',
  corpId: 'wwcorp',
  agentId: 1000002,
  secret: 's',
  initiator: 'bot',
  connectionMode: 'poll',
});
const dingtalk = integrationSchema.parse({
  id: 'dingtalk-main',
  provider: 'dingtalk',
  appKey: 'k',
  appSecret: 's',
  initiator: 'bot',
  connectionMode: 'poll',
});

function clients(...providers: ImProvider[]) {
  return new ImClients(new Map(providers.map(p => [p.id, p])), {
    logger: mockServices.logger.mock(),
    callbackMaxAgeSeconds: 300,
    keepToRateLimits: true,
  });
}

describe('ImClients', () => {
  it("keeps the reconciler's reads under each IM's limits: WeCom's OA APIs' 600 a minute, DingTalk's 20 a second", () => {
    const all = clients(
      wecomProvider as ImProvider,
      dingtalkProvider as ImProvider,
    );
    expect(all.readsPerPass(wecom, 30)).toBe(200);
    expect(all.readsPerPass(wecom, 1)).toBe(6);
    expect(all.readsPerPass(wecom, 60)).toBe(400);
    expect(all.readsPerPass(dingtalk, 30)).toBe(300);
    expect(all.readsPerSecond(dingtalk)).toBe(10);
    expect(all.readsPerSecond(wecom)).toBe(Infinity);
  });

  it('refuses, naming the integration, a provider that is not installed or a mode it lacks', () => {
    expect(() => clients(dingtalkProvider as ImProvider).check(wecom)).toThrow(
      'Integration "wecom-main": no provider "wecom" is installed',
    );
    const pollOnly = {
      ...(wecomProvider as ImProvider),
      connectionModes: ['callback'] as const,
    };
    expect(() => clients(pollOnly).check(wecom)).toThrow(
      'Integration "wecom-main": wecom does not support connection mode "poll" (supported: callback)',
    );
  });
});
