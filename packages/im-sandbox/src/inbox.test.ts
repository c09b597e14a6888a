import { control, useTestSandbox } from './testing/sandbox';

describe('the approver inbox', () => {
  const t = useTestSandbox();

  const page = async (path = '/') => (await fetch(`${t.sandbox.url}${path}`)).text();
  const postForm = (path: string, fields: Record<string, string>) =>
    fetch(`${t.sandbox.url}${path}`, { method: 'POST', body: new URLSearchParams(fields), redirect: 'manual' });
  const cardOf = (html: string, code: string) => {
    const start = html.indexOf(`<article class="card" id="instance-${code}"`);
    return start < 0 ? undefined : html.slice(start, html.indexOf('</article>', start));
  };

  it('shows a pending instance with its form values and approvers', async () => {
    const code = await t.api.createInstance({
      form: JSON.stringify([
        { id: 'widget_service', type: 'input', value: 'payments' },
        { id: 'widget_reason', type: 'textarea', value: 'Fix the refund rounding' },
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
      title: '<script>alert("title")</script>',
      form: JSON.stringify([
        { id: 'widget_service', type: 'input', value: '<img src=x onerror=alert(1)>' },
        { id: 'widget_reason', type: 'textarea', value: '"quoted" & <b>bold</b>' },
      ]),
    });

    const html = await page();

    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<b>bold</b>');
    expect(cardOf(html, code)).toContain('&#60;script&#62;alert(&#34;title&#34;)&#60;/script&#62;');
  });

  it('decides an instance from its form and redirects back to the page', async () => {
    const code = await t.api.createInstance();

    const answer = await postForm(`/inbox/feishu/${code}/approve`, { openId: 'ou_bob', comment: 'Looks good' });

    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/');
    const instance = (await control(t.sandbox).get(`/feishu/instances/${code}`)).body;
    expect(instance.status).toBe('APPROVED');
    expect(instance.timeline.at(-1)).toMatchObject({ type: 'PASS', openId: 'ou_bob', comment: 'Looks good' });
    const html = await page();
    expect(cardOf(html, code)).toBeUndefined();
    expect(html).toContain(`<tr id="instance-${code}">`);
    expect(html).toContain('Bob Li: “Looks good”');
  });

  it('rejects from the form and reports a decision that is no longer possible', async () => {
    const code = await t.api.createInstance();
    await postForm(`/inbox/feishu/${code}/reject`, { openId: '', comment: '' });
    expect((await control(t.sandbox).get(`/feishu/instances/${code}`)).body.status).toBe('REJECTED');

    const late = await postForm(`/inbox/feishu/${code}/approve`, {});

    expect(late.status).toBe(303);
    const location = late.headers.get('location') ?? '';
    expect(location).toMatch(/^\/\?error=/);
    expect(await page(location)).toContain('is REJECTED; only a PENDING instance can be decided');
  });

  it('sends links to an instance to its place on the page', async () => {
    const answer = await fetch(`${t.sandbox.url}/feishu/instances/ABC-123`, { redirect: 'manual' });

    expect(answer.status).toBe(302);
    expect(answer.headers.get('location')).toBe('/#instance-ABC-123');
  });
});
