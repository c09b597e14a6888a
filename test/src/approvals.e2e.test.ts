import {
  feishuEncrypt,
  feishuSignature,
} from '@im-approval/plugin-im-approval-node';
import type { DeliveryRecord } from '@im-approval/im-sandbox';
import { randomUUID } from 'node:crypto';
import {
  decideInSandbox,
  eventually,
  oidcToken,
  expectReconcilerToFindFeishuDecision,
  openApproval,
  waitFor,
} from './__testUtils__/flow';
import {
  api,
  errorMessage,
  FEISHU_APP,
  getWithTimeline,
  INTEGRATION,
  sandboxControl,
  startStack,
  STATIC_TOKEN,
  type Stack,
} from './__testUtils__/stack';

jest.setTimeout(120_000);

const RUN_CLAIMS = {
  repository: 'acme/api',
  repository_owner: 'acme',
  ref: 'refs/heads/main',
  environment: 'production',
  run_id: '1',
  run_attempt: '1',
};

describe('approvals end to end (real backend on SQLite, Feishu sandbox over HTTP)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];

  beforeAll(async () => {
    stack = await startStack({ database: 'sqlite', reconcileSeconds: 1 });
  });
  afterAll(() => stack?.stop());

  it('opens a Feishu instance and returns the approval to a waiter the moment it is approved', async () => {
    const { approval, token } = await openApproval(stack, backend());
    expect(approval).toMatchObject({
      status: 'pending',
      title: 'Deploy api from acme/api',
      provider: 'feishu',
    });
    expect(approval.context).toMatchObject({
      repository: 'acme/api',
      verified: true,
      runUrl: 'https://github.com/acme/api/actions/runs/1001/attempts/1',
    });
    expect(approval.imUrl).toBe(
      `${stack.sandbox.url}/feishu/instances/${approval.imInstanceId}`,
    );

    const instance = await sandboxControl(
      stack.sandbox,
      'GET',
      `/feishu/instances/${approval.imInstanceId}`,
    );
    expect(instance).toMatchObject({
      status: 'PENDING',
      uuid: approval.id,
      initiatorOpenId: 'ou_bot',
      // octocat is in no catalog: the app asks, and the title says for whom.
      title: 'Deploy api from acme/api · requested by GitHub user octocat',
    });
    expect(
      instance.form.map((f: { id: string; value: unknown }) => [f.id, f.value]),
    ).toEqual([
      ['widget_service', 'api'],
      ['widget_reason', 'release 1.2'],
      [
        'widget_run',
        'https://github.com/acme/api/actions/runs/1001/attempts/1',
      ],
    ]);
    expect(
      instance.approvers.map((a: { openId: string }) => a.openId).sort(),
    ).toEqual(['ou_alice', 'ou_bob']);

    const still = await waitFor(backend(), approval.id, token, '1s');
    expect(still.body.status).toBe('pending');

    const waiting = waitFor(backend(), approval.id, token);
    await new Promise(r => setTimeout(r, 300));
    await decideInSandbox(stack, approval.imInstanceId!, 'approve', {
      openId: 'ou_alice',
      comment: 'ship it',
    });
    const decided = await waiting;
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({
      status: 'approved',
      decidedBy: 'Alice Chen',
      decidedById: 'ou_alice',
      comment: 'ship it',
    });

    const { body } = await getWithTimeline(backend(), approval.id, token);
    // The reconciler passes every second in this suite (for its own test below), so on a busy
    // machine it may read the approved instance before the callback is processed; either way the
    // decision is recorded once.
    expect(body.timeline.map(e => [e.type, e.source])).toEqual([
      ['created', 'api'],
      ['im_instance_created', 'api'],
      ['approved', expect.stringMatching(/^(callback|reconciler)$/)],
    ]);
    // Each value with the name the sandbox's form shows approvers (its widget's), whether the template named the widget by it or by id.
    expect(body.form).toEqual([
      { field: 'Service', value: 'api', label: 'Service' },
      { field: 'widget_reason', value: 'release 1.2', label: 'Reason' },
      {
        field: 'Run',
        value: 'https://github.com/acme/api/actions/runs/1001/attempts/1',
        label: 'Run',
      },
    ]);
  });

  it('returns a rejection with the approver and comment', async () => {
    const { approval, token } = await openApproval(stack, backend());
    const waiting = waitFor(backend(), approval.id, token);
    await decideInSandbox(stack, approval.imInstanceId!, 'reject', {
      openId: 'ou_bob',
      comment: 'not on a Friday',
    });
    expect((await waiting).body).toMatchObject({
      status: 'rejected',
      decidedBy: 'Bob Li',
      decidedById: 'ou_bob',
      comment: 'not on a Friday',
    });
  });

  it('cancels: the waiter returns canceled and the IM instance is revoked', async () => {
    const { approval, token } = await openApproval(stack, backend());
    const waiting = waitFor(backend(), approval.id, token);
    const canceled = await api(
      backend(),
      'POST',
      `/approvals/${approval.id}/cancel`,
      { token, body: { reason: 'job canceled' } },
    );
    expect(canceled.body).toMatchObject({
      status: 'canceled',
      comment: 'job canceled',
      decidedBy: 'github:acme/api',
      decidedById: 'github:acme/api',
    });
    expect((await waiting).body.status).toBe('canceled');
    expect(
      (
        await sandboxControl(
          stack.sandbox,
          'GET',
          `/feishu/instances/${approval.imInstanceId}`,
        )
      ).status,
    ).toBe('CANCELED');
    const { body } = await getWithTimeline(backend(), approval.id, token);
    expect(body.timeline.map(e => e.type)).toEqual([
      'created',
      'im_instance_created',
      'canceled',
      'im_instance_revoked',
    ]);
    expect(
      (
        await api(backend(), 'POST', `/approvals/${approval.id}/cancel`, {
          token,
        })
      ).body.status,
    ).toBe('canceled');
    await expect(
      decideInSandbox(stack, approval.imInstanceId!, 'approve'),
    ).rejects.toThrow(/409/);
  });

  it('expires at the deadline the server owns and revokes the IM instance', async () => {
    const { approval, token } = await openApproval(stack, backend(), {
      timeout: '2s',
    });
    const waited = await waitFor(backend(), approval.id, token, '20s');
    expect(waited.body.status).toBe('expired');
    expect(Date.parse(waited.body.decidedAt!)).toBeGreaterThanOrEqual(
      Date.parse(approval.expiresAt),
    );
    // The instance is revoked once the expiry is recorded, which is what wakes the waiter.
    const revoked = await eventually(
      () =>
        sandboxControl(
          stack.sandbox,
          'GET',
          `/feishu/instances/${approval.imInstanceId}`,
        ),
      instance => instance.status === 'CANCELED',
    );
    expect(revoked.status).toBe('CANCELED');
  });

  it('applies a callback delivered twice exactly once', async () => {
    const { approval, token } = await openApproval(stack, backend());
    await decideInSandbox(stack, approval.imInstanceId!, 'approve', {
      openId: 'ou_alice',
      comment: 'twice',
      delivery: { duplicate: true },
    });
    const delivered = await eventually(
      async () =>
        (
          await sandboxControl<DeliveryRecord[]>(
            stack.sandbox,
            'GET',
            '/feishu/deliveries',
          )
        ).filter(
          // The instance's creation sent PENDING events once; the decision's events are the duplicated ones.
          d =>
            d.instanceCode === approval.imInstanceId &&
            d.outcome === 'delivered' &&
            d.eventStatus !== 'PENDING',
        ),
      all =>
        all.length >= 4 &&
        all.length === 2 * new Set(all.map(d => d.eventUuid)).size,
    );
    expect(delivered.every(d => d.httpStatus === 200)).toBe(true);
    expect(delivered.length).toBe(
      2 * new Set(delivered.map(d => d.eventUuid)).size,
    );
    // Acknowledged once recorded; applied right after.
    await waitFor(backend(), approval.id, token);
    const { body } = await getWithTimeline(backend(), approval.id, token);
    expect(body.status).toBe('approved');
    expect(body.timeline.filter(e => e.type === 'approved')).toHaveLength(1);
  });

  it('rejects forged and tampered callbacks and changes nothing', async () => {
    const { approval, token } = await openApproval(stack, backend());
    const url = `${backend().api}/callbacks/feishu/${INTEGRATION}`;
    const event = {
      uuid: randomUUID(),
      token: FEISHU_APP.verificationToken,
      ts: String(Date.now() / 1000),
      type: 'event_callback',
      event: {
        type: 'approval_instance',
        instance_code: approval.imInstanceId,
        status: 'APPROVED',
      },
    };
    const post = (key: string, tamper: (body: string) => string) => {
      const body = JSON.stringify({
        encrypt: feishuEncrypt(key, JSON.stringify(event)),
      });
      const timestamp = String(Math.floor(Date.now() / 1000));
      return fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-lark-request-timestamp': timestamp,
          'x-lark-request-nonce': 'nonce',
          'x-lark-signature': feishuSignature(timestamp, 'nonce', key, body),
        },
        body: tamper(body),
      });
    };
    expect((await post('not-the-key', b => b)).status).toBe(401);
    expect(
      (
        await post(FEISHU_APP.encryptKey, b =>
          b.replace('{"encrypt":', '{"encrypt" :'),
        )
      ).status,
    ).toBe(401);
    expect(
      (
        await fetch(`${backend().api}/callbacks/feishu/no-such-integration`, {
          method: 'POST',
          body: '{}',
        })
      ).status,
    ).toBe(404);

    const { body } = await getWithTimeline(backend(), approval.id, token);
    expect(body.status).toBe('pending');
    expect(body.timeline.map(e => e.type)).toEqual([
      'created',
      'im_instance_created',
    ]);
    // The instance really is approved in the IM only now; a genuine callback still works afterwards.
    const waiting = waitFor(backend(), approval.id, token);
    await decideInSandbox(stack, approval.imInstanceId!, 'approve', {
      openId: 'ou_alice',
    });
    expect((await waiting).body.status).toBe('approved');
  });

  it('finds a decision whose callback never came, through the reconciler', () =>
    expectReconcilerToFindFeishuDecision(stack, backend(), FEISHU_APP.appId));

  it('returns the same approval for the same idempotency key and opens one IM instance', async () => {
    const token = await oidcToken(stack);
    const body = {
      template: 'deploy',
      idempotencyKey: `run-1001-1-deploy-${randomUUID()}`,
      variables: { service: 'api', reason: 'r' },
    };
    const before = (await sandboxControl(stack.sandbox, 'GET', '/feishu/stats'))
      .instanceCreates;
    const [first, second] = await Promise.all([
      api(backend(), 'POST', '/approvals', { token, body }),
      api(backend(), 'POST', '/approvals', { token, body }),
    ]);
    const third = await api(backend(), 'POST', '/approvals', { token, body });
    expect([first.status, second.status].sort()).toEqual([200, 201]);
    expect(third.status).toBe(200);
    expect(new Set([first.body.id, second.body.id, third.body.id]).size).toBe(
      1,
    );
    expect(
      (await sandboxControl(stack.sandbox, 'GET', '/feishu/stats'))
        .instanceCreates - before,
    ).toBe(1);
  });

  it('logs creations and refusals, not long-polls or successful reads (app-config.yaml quiets them)', async () => {
    const { approval, token } = await openApproval(stack, backend());
    expect((await waitFor(backend(), approval.id, token, '1s')).status).toBe(
      200,
    );
    expect(
      (await api(backend(), 'GET', `/approvals/${approval.id}`, { token }))
        .status,
    ).toBe(200);
    expect(
      (await api(backend(), 'GET', `/approvals/${randomUUID()}`, { token }))
        .status,
    ).toBe(404);
    // Backstage's request line, in its JSON (production) or its coloured (development) format.
    const requestLine = /\\?"([A-Z]+) (\S+) HTTP\/1\.1\\?" (\d{3})/;
    const requests = await eventually(
      async () =>
        backend()
          .log()
          .split('\n')
          .flatMap(line => {
            const [, method, url, status] = requestLine.exec(line) ?? [];
            return method ? [{ method, url, status: Number(status) }] : [];
          }),
      lines => lines.some(line => line.status === 404),
    );
    expect(requests).toContainEqual(
      expect.objectContaining({
        method: 'POST',
        url: '/api/im-approval/approvals',
        status: 201,
      }),
    );
    expect(
      requests.filter(line => line.method === 'GET' && line.status === 200),
    ).toEqual([]);
  });

  describe('who may call', () => {
    const create = (
      token: string | undefined,
      extra: Record<string, unknown> = {},
    ) =>
      api(backend(), 'POST', '/approvals', {
        token,
        body: {
          template: 'deploy',
          idempotencyKey: randomUUID(),
          variables: { service: 'api', reason: 'r' },
          ...extra,
        },
      });

    it('refuses a missing, forged or expired token with 401 and a wrong owner with 403', async () => {
      expect((await create(undefined)).status).toBe(401);
      expect(
        (await create(await stack.issuer.sign(RUN_CLAIMS, { forged: true })))
          .status,
      ).toBe(401);
      expect(
        errorMessage(
          await create(await stack.issuer.sign(RUN_CLAIMS, { expiresIn: -30 })),
        ),
      ).toMatch(/expired/);
      expect(
        (
          await create(
            await stack.issuer.sign(RUN_CLAIMS, { audience: 'other' }),
          )
        ).status,
      ).toBe(401);
      const wrongOwner = await create(
        await oidcToken(stack, {
          repository: 'evil/api',
          repository_owner: 'evil',
        }),
      );
      expect(wrongOwner.status).toBe(403);
    });

    it('enforces the template policy on the verified context', async () => {
      const response = await create(
        await oidcToken(stack, { environment: 'dev' }),
      );
      expect(response.status).toBe(403);
      expect(errorMessage(response)).toMatch(
        /does not allow environment "dev" \(verified\)/,
      );
    });

    it('names a missing variable, a bad timeout and an unknown template', async () => {
      const token = await oidcToken(stack);
      const missing = await create(token, { variables: { service: 'api' } });
      expect(missing.status).toBe(400);
      expect(errorMessage(missing)).toMatch(/\$\{vars\.reason\}/);
      expect(errorMessage(await create(token, { timeout: '2 hours' }))).toBe(
        'body.timeout: expected a duration like 30m, 2h, 1d',
      );
      expect(errorMessage(await create(token, { timeout: '2d' }))).toMatch(
        /at most 1d/,
      );
      expect(errorMessage(await create(token, { template: 'nope' }))).toMatch(
        /no template named "nope"/,
      );
    });

    it('accepts a static token with a self-reported context, marked as such', async () => {
      const response = await create(STATIC_TOKEN, {
        context: { repository: 'acme/api', environment: 'staging', runId: '7' },
      });
      expect(response.status).toBe(201);
      expect(response.body.context).toMatchObject({
        verified: false,
        caller: 'local-dev',
        repository: 'acme/api',
      });
      expect(errorMessage(await create(STATIC_TOKEN))).toMatch(
        /^body\.context: required/,
      );
    });

    it("lets a workflow read only its own repository's approvals", async () => {
      const { approval } = await openApproval(stack, backend());
      const other = await oidcToken(stack, { repository: 'acme/web' });
      expect(
        (
          await api(backend(), 'GET', `/approvals/${approval.id}`, {
            token: other,
          })
        ).status,
      ).toBe(403);
      expect(
        (
          await api(backend(), 'POST', `/approvals/${approval.id}/cancel`, {
            token: other,
          })
        ).status,
      ).toBe(403);
      expect(
        (
          await api(backend(), 'POST', `/approvals/${approval.id}/decision`, {
            token: STATIC_TOKEN,
            body: { decision: 'approved', comment: 'x' },
          })
        ).status,
      ).toBe(403);
    });
  });
});
