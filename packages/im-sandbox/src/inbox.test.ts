import {
  DINGTALK_APP,
  DINGTALK_CARD_TEMPLATE,
  DINGTALK_CHAT,
  dingtalk,
} from './testing/dingtalk';
import { control, formCard, useTestSandbox } from './testing/sandbox';
import { WECOM_APP, wecom } from './testing/wecom';

describe('the approver inbox', () => {
  const t = useTestSandbox();

  const page = async (path = '/') =>
    (await fetch(`${t.sandbox.url}${path}`)).text();
  const postForm = (path: string, fields: Record<string, string>) =>
    fetch(`${t.sandbox.url}${path}`, {
      method: 'POST',
      body: new URLSearchParams(fields),
      redirect: 'manual',
    });
  const cardOf = (html: string, code: string, im = 'feishu') => {
    const start = html.indexOf(
      `<article class="card" id="instance-${im}-${code}"`,
    );
    return start < 0
      ? undefined
      : html.slice(start, html.indexOf('</article>', start));
  };

  it('shows a pending instance with its form values and approvers', async () => {
    const code = await t.api.createInstance({
      form: JSON.stringify([
        { id: 'widget_service', type: 'input', value: 'payments' },
        {
          id: 'widget_reason',
          type: 'textarea',
          value: 'Fix the refund rounding',
        },
      ]),
    });

    const card = cardOf(await page(), code);

    expect(card).toBeDefined();
    expect(card).toContain('Production deployment');
    expect(card).toContain('<dt>Reason</dt><dd>Fix the refund rounding</dd>');
    expect(card).toContain('Alice Chen');
    expect(card).toContain('Bob Li');
    expect(card).toContain(`action="/inbox/feishu/${code}/approve"`);
    expect(card).toContain(`formaction="/inbox/feishu/${code}/reject"`);
  });

  it('escapes text that comes from outside', async () => {
    const code = await t.api.createInstance({
      // Feishu titles are i18n keys; the text people see is the default locale's.
      title: '@i18n@title',
      i18n_resources: [
        {
          locale: 'zh-CN',
          is_default: true,
          texts: [
            { key: '@i18n@title', value: '<script>alert("title")</script>' },
          ],
        },
      ],
      form: JSON.stringify([
        {
          id: 'widget_service',
          type: 'input',
          value: '<img src=x onerror=alert(1)>',
        },
        {
          id: 'widget_reason',
          type: 'textarea',
          value: '"quoted" & <b>bold</b>',
        },
      ]),
    });

    const html = await page();

    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<b>bold</b>');
    expect(cardOf(html, code)).toContain(
      '&#60;script&#62;alert(&#34;title&#34;)&#60;/script&#62;',
    );
  });

  it('decides an instance from its form and redirects back to the page', async () => {
    const code = await t.api.createInstance();

    const answer = await postForm(`/inbox/feishu/${code}/approve`, {
      openId: 'ou_bob',
      comment: 'Looks good',
    });

    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/');
    const instance = (await control(t.sandbox).get(`/feishu/instances/${code}`))
      .body;
    expect(instance.status).toBe('APPROVED');
    expect(instance.timeline.at(-1)).toMatchObject({
      type: 'PASS',
      openId: 'ou_bob',
      comment: 'Looks good',
    });
    const html = await page();
    expect(cardOf(html, code)).toBeUndefined();
    expect(html).toContain(`<tr id="instance-feishu-${code}">`);
    expect(html).toContain('Bob Li: “Looks good”');
  });

  it('rejects from the form and reports a decision that is no longer possible', async () => {
    const code = await t.api.createInstance();
    await postForm(`/inbox/feishu/${code}/reject`, { openId: '', comment: '' });
    expect(
      (await control(t.sandbox).get(`/feishu/instances/${code}`)).body.status,
    ).toBe('REJECTED');

    const late = await postForm(`/inbox/feishu/${code}/approve`, {});

    expect(late.status).toBe(303);
    const location = late.headers.get('location') ?? '';
    expect(location).toMatch(/^\/\?error=/);
    expect(await page(location)).toContain(
      'is REJECTED; only a PENDING instance can be decided',
    );
  });

  it('sends links to an instance to its place on the page', async () => {
    const answer = await fetch(`${t.sandbox.url}/feishu/instances/ABC-123`, {
      redirect: 'manual',
    });

    expect(answer.status).toBe(302);
    expect(answer.headers.get('location')).toBe('/#instance-feishu-ABC-123');
    const wecomLink = await fetch(
      `${t.sandbox.url}/wecom/instances/202401010001`,
      { redirect: 'manual' },
    );
    expect(wecomLink.headers.get('location')).toBe(
      '/#instance-wecom-202401010001',
    );
  });

  it('lists pending DingTalk and WeCom requests beside Feishu ones, each with its form, approvers and deciders', async () => {
    const feishuCode = await t.api.createInstance();
    const dingtalkId = await (
      await dingtalk(t.sandbox)
    ).createInstance({
      approvers: [{ actionType: 'AND', userIds: ['alice', 'bob'] }],
    });
    const spNo = await (await wecom(t.sandbox)).apply();

    const html = await page();

    expect(html).toContain('Pending <span class="count">3</span>');
    expect(cardOf(html, feishuCode)).toContain(
      '<span class="im">Feishu</span>',
    );
    const dingtalkCard = cardOf(html, dingtalkId, 'dingtalk');
    expect(dingtalkCard).toContain('<span class="im">DingTalk</span>');
    expect(dingtalkCard).toContain('<dt>Service</dt><dd>payments</dd>');
    expect(dingtalkCard).toContain('Step 1 · all');
    expect(dingtalkCard).toContain(
      '<select name="userId"><option value="alice">Alice Chen</option><option value="bob">Bob Li</option></select>',
    );
    expect(dingtalkCard).toContain(
      `action="/inbox/dingtalk/${dingtalkId}/approve"`,
    );
    const wecomCard = cardOf(html, spNo, 'wecom');
    expect(wecomCard).toContain(
      '<span class="im">WeCom</span> Deploy payments</h3>',
    );
    expect(wecomCard).toContain('<dt>Reason</dt><dd>hotfix</dd>');
    expect(wecomCard).toContain('Step 1 · any one');
    expect(wecomCard).toContain(`formaction="/inbox/wecom/${spNo}/reject"`);
  });

  it('decides a WeCom request through its flow: the detail API reports the approver and the speech', async () => {
    const api = await wecom(t.sandbox);
    const spNo = await api.apply();

    const answer = await postForm(`/inbox/wecom/${spNo}/approve`, {
      userId: 'bob',
      comment: 'Ship it',
    });

    expect(answer.status).toBe(303);
    const info = (await api.detail(spNo)).info;
    expect(info.sp_status).toBe(2);
    expect(info.process_list.node_list[0].sub_node_list).toEqual([
      expect.objectContaining({ userid: 'alice', sp_yj: 1 }),
      expect.objectContaining({ userid: 'bob', sp_yj: 2, speech: 'Ship it' }),
    ]);
    const html = await page();
    expect(cardOf(html, spNo, 'wecom')).toBeUndefined();
    expect(html).toContain(
      `<tr id="instance-wecom-${spNo}"><td>Deploy payments</td><td>WeCom</td><td><span class="badge approved">APPROVED</span></td><td>Bob Li: “Ship it”</td>`,
    );
  });

  it('rejects a DingTalk instance from its form, and reports a decision by someone with no pending task', async () => {
    const api = await dingtalk(t.sandbox);
    const id = await api.createInstance();
    const wrong = await postForm(`/inbox/dingtalk/${id}/approve`, {
      userId: 'carol',
    });
    expect(await page(wrong.headers.get('location') ?? '')).toContain(
      'carol has no pending task',
    );

    await postForm(`/inbox/dingtalk/${id}/reject`, {
      userId: 'alice',
      comment: 'Not now',
    });

    const read = (
      await api.get(`/v1.0/workflow/processInstances?processInstanceId=${id}`)
    ).body.result;
    expect(read).toMatchObject({ status: 'COMPLETED', result: 'refuse' });
    expect(read.operationRecords.at(-1)).toMatchObject({
      userId: 'alice',
      result: 'REFUSE',
      remark: 'Not now',
    });
    expect(await page()).toContain(
      '<td>DingTalk</td><td><span class="badge rejected">REJECTED</span></td><td>Alice Chen: “Not now”</td>',
    );
  });
});

describe('the approver inbox’s group chats', () => {
  const t = useTestSandbox();

  it('shows each chat’s cards as members see them, and clicks a button as the member chosen', async () => {
    await control(t.sandbox).post('/feishu/chats', {
      chatId: 'oc_room',
      name: 'Release <room>',
      members: ['ou_alice', 'ou_bob'],
      bots: ['cli_test_app'],
    });
    const sent = await t.api.post('/im/v1/messages?receive_id_type=chat_id', {
      receive_id: 'oc_room',
      msg_type: 'interactive',
      content: JSON.stringify(formCard('Approve', 'Deploy <b>api</b>')),
    });
    const html = await (await fetch(`${t.sandbox.url}/`)).text();
    const chats = html.slice(html.indexOf('<section id="chats">'));
    expect(chats).toContain('Release &#60;room&#62;');
    expect(chats).toContain('Deploy &#60;b&#62;api&#60;/b&#62;');
    expect(chats).toContain('<option value="ou_bob">Bob Li</option>');
    expect(chats).toContain('name="comment"');
    expect(chats).toContain('value="Approve"');

    // No card request URL is set for the app: the click is refused, and the page says why.
    const clicked = await fetch(
      `${t.sandbox.url}/inbox/chats/oc_room/${sent.body.data.message_id}/click`,
      {
        method: 'POST',
        body: new URLSearchParams({ openId: 'ou_bob', button: 'Approve' }),
        redirect: 'manual',
      },
    );
    expect(clicked.status).toBe(303);
    expect(decodeURIComponent(clicked.headers.get('location') ?? '')).toMatch(
      /error=app cli_test_app has no card request URL/,
    );
  });

  it('shows DingTalk groups’ cards with their buttons and WeCom chats’ messages, and tells the DingTalk clicker what no app answered', async () => {
    await control(t.sandbox).post('/dingtalk/chats', {
      ...DINGTALK_CHAT,
      robots: [DINGTALK_APP.appKey],
    });
    await control(t.sandbox).post(
      '/dingtalk/card-templates',
      DINGTALK_CARD_TEMPLATE,
    );
    const dingtalkApi = await dingtalk(t.sandbox);
    await dingtalkApi.post('/v1.0/card/instances/createAndDeliver', {
      cardTemplateId: DINGTALK_CARD_TEMPLATE.templateId,
      outTrackId: 'card-1',
      cardData: {
        cardParamMap: { title: 'Deploy <b>web</b>', decidable: 'true' },
      },
      openSpaceId: `dtv1.card//IM_GROUP.${DINGTALK_CHAT.openConversationId}`,
      imGroupOpenDeliverModel: { robotCode: DINGTALK_APP.appKey },
    });
    await control(t.sandbox).post('/wecom/chats', {
      chatId: 'releaseroom',
      name: 'WeCom room',
      members: ['alice', 'bob'],
      agentId: WECOM_APP.agentId,
    });
    await (
      await wecom(t.sandbox)
    ).post('/cgi-bin/appchat/send', {
      chatid: 'releaseroom',
      msgtype: 'text',
      text: { content: 'Approved by Alice Chen' },
    });
    const html = await (await fetch(`${t.sandbox.url}/`)).text();
    const chats = html.slice(html.indexOf('<section id="chats">'));
    expect(chats).toContain('Release room');
    expect(chats).toContain('Deploy &#60;b&#62;web&#60;/b&#62;');
    expect(chats).toContain('value="Approve"');
    expect(chats).toContain('WeCom room');
    expect(chats).toContain('Approved by Alice Chen');

    // The app holds no Stream connection subscribed to card callbacks: DingTalk tells the clicker.
    const clicked = await fetch(
      `${t.sandbox.url}/inbox/chats/${encodeURIComponent(DINGTALK_CHAT.openConversationId)}/card-1/click`,
      {
        method: 'POST',
        body: new URLSearchParams({ openId: 'bob', button: 'Approve' }),
        redirect: 'manual',
      },
    );
    expect(decodeURIComponent(clicked.headers.get('location') ?? '')).toMatch(
      /error=app dingtestapp has no Stream connection subscribed/,
    );
  });
});
