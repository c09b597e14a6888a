import { control, useTestSandbox } from '../testing/sandbox';
import { WECOM_APP, wecom } from '../testing/wecom';

// WeCom's app messages as its reference states them: members by userid, those it cannot reach
// named in invaliduser, none reachable 81013, a member's per-minute limit dropped without an error.

describe('WeCom app messages (POST /cgi-bin/message/send)', () => {
  const t = useTestSandbox();
  const send = async (body: object) =>
    (await wecom(t.sandbox)).post('/cgi-bin/message/send', {
      msgtype: 'text',
      agentid: WECOM_APP.agentId,
      text: { content: 'Reminder' },
      ...body,
    });
  const inbox = async (user: string) =>
    (await control(t.sandbox).get(`/wecom/messages?user=${user}`)).body;

  it('delivers to the members it knows and names the rest in invaliduser', async () => {
    const answer = await send({ touser: 'alice|ghost|bob' });
    expect(answer.body).toMatchObject({
      errcode: 0,
      invaliduser: 'ghost',
      msgid: expect.any(String),
    });
    expect(await inbox('alice')).toEqual([
      expect.objectContaining({ userId: 'alice', content: 'Reminder' }),
    ]);
    expect(await inbox('bob')).toHaveLength(1);
  });

  it('cuts text at 2,048 bytes, as WeCom does, without an error', async () => {
    await send({ touser: 'alice', text: { content: '审'.repeat(1000) } });
    const [message] = await inbox('alice');
    expect(Buffer.byteLength(message.content)).toBeLessThanOrEqual(2048);
    expect(message.content).toBe('审'.repeat(682));
  });

  it.each([
    ['nobody it knows', { touser: 'ghost' }, 81013],
    ['nobody at all', { touser: '' }, 82001],
    ['another app’s agentid', { touser: 'alice', agentid: 1 }, 301002],
    ['empty text', { touser: 'alice', text: { content: '' } }, 44004],
    [
      'a type it does not deliver',
      { touser: 'alice', msgtype: 'mpnews' },
      40008,
    ],
    [
      'a textcard without its textcard',
      { touser: 'alice', msgtype: 'textcard' },
      40058,
    ],
    [
      'more than 1,000 members',
      { touser: Array.from({ length: 1001 }, (_, i) => `u${i}`).join('|') },
      40032,
    ],
  ])(
    'refuses %s with its errcode, delivering nothing',
    async (_, body, errcode) => {
      const answer = await send(body);
      expect(answer.body.errcode).toBe(errcode);
      expect(await inbox('alice')).toEqual([]);
    },
  );

  it('drops a member’s messages past 30 a minute from one app, answering as if sent', async () => {
    for (let i = 0; i < 31; i++) {
      const answer = await send({
        touser: 'alice',
        text: { content: `m${i}` },
      });
      expect(answer.body.errcode).toBe(0);
    }
    expect(await inbox('alice')).toHaveLength(30);
  });
});
