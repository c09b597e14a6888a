import { control, useTestSandbox } from '../testing/sandbox';
import { WECOM_APP, wecom } from '../testing/wecom';

// An app's group chats (appchat/*): made of members, sent to only by the app that made them, a
// textcard read as members read it (its <div> lines, entities read, other markup dropped).

describe('WeCom app group chats (appchat/create, appchat/send)', () => {
  const t = useTestSandbox();
  const messages = async (chatId: string) =>
    (await control(t.sandbox).get(`/wecom/chats/${chatId}/messages`)).body;

  it('creates a chat of members, refusing one of fewer than 2 or with someone outside the corp', async () => {
    const api = await wecom(t.sandbox);
    const created = await api.post('/cgi-bin/appchat/create', {
      name: 'Release room',
      userlist: ['alice', 'bob'],
      chatid: 'releaseroom',
    });
    expect(created.body).toMatchObject({ errcode: 0, chatid: 'releaseroom' });
    expect(
      (await api.get('/cgi-bin/appchat/get?chatid=releaseroom')).body,
    ).toMatchObject({
      chat_info: { name: 'Release room', userlist: ['alice', 'bob'] },
    });
    expect(
      (await api.post('/cgi-bin/appchat/create', { userlist: ['alice'] })).body
        .errcode,
    ).toBe(40058);
    expect(
      (
        await api.post('/cgi-bin/appchat/create', {
          userlist: ['alice', 'mallory'],
        })
      ).body.errcode,
    ).toBe(40031);
    expect(
      (
        await api.post('/cgi-bin/appchat/create', {
          userlist: ['alice', 'bob'],
          chatid: 'releaseroom',
        })
      ).body.errcode,
    ).toBe(40058);
  });

  it('sends only to a chat the app made, and shows a textcard as members read it', async () => {
    await control(t.sandbox).post('/wecom/chats', {
      chatId: 'theirs',
      name: 'Another app’s room',
      members: ['alice', 'bob'],
      agentId: WECOM_APP.agentId + 1,
    });
    await control(t.sandbox).post('/wecom/chats', {
      chatId: 'ours',
      name: 'Release room',
      members: ['alice', 'bob'],
      agentId: WECOM_APP.agentId,
    });
    const api = await wecom(t.sandbox);
    const card = (description: string, btntxt = 'Open') => ({
      msgtype: 'textcard',
      textcard: {
        title: 'Deploy api',
        description,
        url: 'https://im.example/1',
        btntxt,
      },
    });
    expect(
      (
        await api.post('/cgi-bin/appchat/send', {
          chatid: 'theirs',
          ...card('x'),
        })
      ).body.errcode,
    ).toBe(86003);
    expect(
      (
        await api.post('/cgi-bin/appchat/send', {
          chatid: 'ours',
          ...card('x', 'Open it now'),
        })
      ).body.errcode,
    ).toBe(40058);
    expect(await messages('ours')).toEqual([]);

    await api.post('/cgi-bin/appchat/send', {
      chatid: 'ours',
      ...card(
        '<div class="gray">Repository: acme/api</div><div class="normal">Reason: &lt;b&gt;hotfix&lt;/b&gt;</div><div class="normal">Note: <b>raw</b></div>',
      ),
    });
    await api.post('/cgi-bin/appchat/send', {
      chatid: 'ours',
      msgtype: 'text',
      text: { content: 'Approved by Alice Chen' },
    });
    expect(
      (await messages('ours')).map((m: { text: string }) => m.text),
    ).toEqual([
      'Deploy api\nRepository: acme/api\nReason: <b>hotfix</b>\nNote: raw\nhttps://im.example/1',
      'Approved by Alice Chen',
    ]);
  });
});
