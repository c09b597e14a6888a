import { dingtalkIntegrationSchema } from '@im-approval/plugin-im-approval-common';
import { dingtalkProvider } from '.';

const integration = (overrides: object) =>
  dingtalkIntegrationSchema.parse({
    id: 'dt',
    provider: 'dingtalk',
    appKey: 'dingapp',
    appSecret: 's',
    initiator: 'bot',
    connectionMode: 'stream',
    cardTemplateId: 'tpl.schema',
    ...overrides,
  });

describe('DingTalk group chat cards', () => {
  it('need the card template and the Stream connection, each named with where to set it', () => {
    expect(dingtalkProvider.cards).toBe('decide');
    expect(dingtalkProvider.cardsNeed!(integration({}))).toBeUndefined();
    expect(
      dingtalkProvider.cardsNeed!(integration({ cardTemplateId: undefined })),
    ).toMatch(/^set cardTemplateId on integration "dt"/);
    expect(
      dingtalkProvider.cardsNeed!(integration({ connectionMode: 'poll' })),
    ).toMatch(/set connectionMode to stream on integration "dt"/);
  });
});
