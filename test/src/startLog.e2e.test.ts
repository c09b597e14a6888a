import {
  decideInSandbox,
  eventually,
  openApproval,
  waitFor,
} from './__testUtils__/flow';
import {
  DINGTALK_STREAM_APP,
  dingtalkStream,
  feishuCallback,
} from './__testUtils__/ims';
import { STATIC_TOKEN, startStack, type Stack } from './__testUtils__/stack';

jest.setTimeout(120_000);

// Backstage's request line, in its JSON (production) or its coloured (development) format.
const REQUEST_LINE = /\\?"([A-Z]+) (\S+) HTTP\/1\.1\\?" (\d{3})/;

describe("the backend's log with app-config.yaml (what bash scripts/start shows)", () => {
  let stack: Stack;
  const backend = () => stack.backends[0];

  beforeAll(async () => {
    stack = await startStack({
      database: 'sqlite',
      ims: [feishuCallback, dingtalkStream],
    });
  });
  afterAll(() => stack?.stop());

  function requests() {
    return backend()
      .log()
      .split('\n')
      .flatMap(line => {
        const [, method, url, status] = REQUEST_LINE.exec(line) ?? [];
        return method ? [{ method, url, status: Number(status) }] : [];
      });
  }

  it('shows connections, callbacks and decisions, not long polls, sign-ins, plugin-to-plugin traffic or the Ready banner', async () => {
    const { approval, token } = await openApproval(stack, backend());
    expect((await waitFor(backend(), approval.id, token, '1s')).body).toEqual(
      expect.objectContaining({ status: 'pending' }),
    );
    // As the app signs its guest in again on each page load (the auth backend asks the catalog for the user).
    const signIn = await fetch(`${backend().url}/api/auth/guest/refresh`, {
      headers: { 'x-requested-with': 'XMLHttpRequest' },
    });
    expect(signIn.status).toBe(200);
    await signIn.body?.cancel();
    // As scripts/ready-banner.mjs probes the API while the stack starts.
    const probe = await fetch(backend().api, {
      headers: { 'user-agent': 'im-approval-ready-banner' },
    });
    await probe.body?.cancel();
    await decideInSandbox(stack, approval.imInstanceId!, 'approve', {
      openId: 'ou_alice',
      comment: 'ship it',
    });
    expect((await waitFor(backend(), approval.id, token)).body).toEqual(
      expect.objectContaining({ status: 'approved' }),
    );

    const decision = `Approval ${approval.id} approved by "Alice Chen" ("ou_alice") (from callback)`;
    const connected = `DingTalk Stream connected for app ${DINGTALK_STREAM_APP.appKey}`;
    // The Stream may connect at any time after start-up; the log is read until both are there.
    const log = await eventually(
      async () => backend().log(),
      text => text.includes(decision) && text.includes(connected),
    );
    expect(log).toContain(decision);
    expect(log).toContain(connected);
    expect(requests()).toEqual(
      expect.arrayContaining([
        { method: 'POST', url: '/api/im-approval/approvals', status: 201 },
        {
          method: 'POST',
          url: '/api/im-approval/callbacks/feishu/feishu-sandbox',
          status: 200,
        },
      ]),
    );
    const quiet = requests().filter(
      ({ url }) =>
        url.includes('/wait') ||
        url.startsWith('/api/events/') ||
        url.startsWith('/api/permission/') ||
        url.startsWith('/api/auth/') ||
        url.startsWith('/api/catalog/') ||
        url === '/api/im-approval',
    );
    expect(quiet).toEqual([]);
    expect(log).not.toContain('Issuing token for');
  });

  it('logs every change, whatever user agent the caller claims', async () => {
    // A cancel of an approval that does not exist: a 404 the quiet rules would otherwise hide.
    const url =
      '/api/im-approval/approvals/00000000-0000-4000-8000-000000000000/cancel';
    for (const userAgent of ['im-approval-ready-banner', 'node-fetch/1.0']) {
      const response = await fetch(`${backend().url}${url}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${STATIC_TOKEN}`,
          'user-agent': userAgent,
          'content-type': 'application/json',
        },
        body: '{}',
      });
      expect(response.status).toBe(404);
      await response.body?.cancel();
    }
    const logged = await eventually(
      async () => requests().filter(r => r.method === 'POST' && r.url === url),
      found => found.length >= 2,
    );
    expect(logged).toEqual([
      { method: 'POST', url, status: 404 },
      { method: 'POST', url, status: 404 },
    ]);
  });
});
