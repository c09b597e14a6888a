import type { ApprovalWithTimeline } from '@im-approval/plugin-im-approval-common';
import { randomUUID } from 'node:crypto';
import { decideInSandbox, oidcToken, waitFor } from './__testUtils__/flow';
import {
  api,
  errorMessage,
  sandboxControl,
  startStack,
  STATIC_TOKEN,
  type DatabaseKind,
  type Stack,
} from './__testUtils__/stack';

jest.setTimeout(120_000);

const VARIABLES = { service: 'api', reason: 'release 1.2' };

describe.each<DatabaseKind>(['sqlite', 'postgres'])(
  'gate integrity end to end on %s',
  database => {
    let stack: Stack;
    const backend = () => stack.backends[0];
    const create = (token: string, body: Record<string, unknown>) =>
      api(backend(), 'POST', '/approvals', {
        token,
        body: { template: 'deploy', variables: VARIABLES, ...body },
      });

    beforeAll(async () => {
      stack = await startStack({ database, reconcileSeconds: 1 });
    });
    afterAll(() => stack?.stop());

    async function approvedUnder(idempotencyKey: string) {
      const token = await oidcToken(stack);
      const opened = await create(token, { idempotencyKey });
      expect(opened.status).toBe(201);
      await decideInSandbox(stack, opened.body.imInstanceId!, 'approve', {
        openId: 'ou_alice',
        comment: 'ship it',
      });
      expect(
        (await waitFor(backend(), opened.body.id, token)).body.status,
      ).toBe('approved');
      return opened.body;
    }

    it('checks the policy on every call: a reused key never carries an approval to a forbidden environment', async () => {
      const key = `run-1-1-deploy-${randomUUID()}`;
      await approvedUnder(key);
      const forbidden = await create(
        await oidcToken(stack, { environment: 'dev' }),
        { idempotencyKey: key },
      );
      expect(forbidden.status).toBe(403);
      expect(errorMessage(forbidden)).toMatch(
        /does not allow environment "dev" \(verified\)/,
      );
      expect(JSON.stringify(forbidden.body)).not.toContain('approved');
    });

    it('scopes a key to its caller: another repository or a static token gets an approval of its own', async () => {
      const key = `run-2-1-deploy-${randomUUID()}`;
      const original = await approvedUnder(key);
      const otherRepository = await create(
        await oidcToken(stack, { repository: 'acme/web' }),
        { idempotencyKey: key },
      );
      expect([otherRepository.status, errorMessage(otherRepository)]).toEqual([
        201,
        expect.any(String),
      ]);
      expect(otherRepository.body).toMatchObject({
        status: 'pending',
        context: { repository: 'acme/web' },
      });
      const staticToken = await create(STATIC_TOKEN, {
        idempotencyKey: key,
        context: {
          repository: 'acme/api',
          environment: 'production',
          runId: '7',
        },
      });
      expect([staticToken.status, errorMessage(staticToken)]).toEqual([
        201,
        expect.any(String),
      ]);
      expect(
        new Set([original.id, otherRepository.body.id, staticToken.body.id])
          .size,
      ).toBe(3);
    });

    it('answers 422 naming what differs when the same caller reuses a key for another request', async () => {
      const key = `run-3-1-deploy-${randomUUID()}`;
      const token = await oidcToken(stack);
      expect((await create(token, { idempotencyKey: key })).status).toBe(201);
      const repeat = await create(token, { idempotencyKey: key });
      expect(repeat.status).toBe(200);
      const changed = await create(token, {
        idempotencyKey: key,
        variables: { ...VARIABLES, reason: 'something else' },
        title: 'Other',
      });
      expect(changed.status).toBe(422);
      expect(errorMessage(changed)).toMatch(
        /^idempotencyKey: .* differs in title, variables\.reason\)/,
      );
      const otherRun = await create(
        await oidcToken(stack, { sha: 'ffff0000' }),
        { idempotencyKey: key },
      );
      expect(otherRun.status).toBe(422);
      expect(errorMessage(otherRun)).toMatch(/differs in context\.sha/);
    });

    it('refuses text the database cannot store with a 400 naming the field, and changes nothing', async () => {
      const token = await oidcToken(stack);
      const before = (
        await api<{ totalCount: number }>(
          backend(),
          'GET',
          '/approvals?limit=1',
          { token: STATIC_TOKEN },
        )
      ).body.totalCount;
      const nul = await create(token, {
        idempotencyKey: randomUUID(),
        title: 'Deploy\u0000',
      });
      expect(nul.status).toBe(400);
      expect(errorMessage(nul)).toBe(
        'body.title: must not contain the NUL character (U+0000)',
      );
      const filter = await api(
        backend(),
        'GET',
        `/approvals?q=${encodeURIComponent('a\u0000b')}`,
        { token: STATIC_TOKEN },
      );
      expect(filter.status).toBe(400);
      expect(errorMessage(filter)).toMatch(/^query\.q: /);
      const callback = await api(
        backend(),
        'POST',
        `/callbacks/feishu/${encodeURIComponent('feishu\u0000sandbox')}`,
        { body: {} },
      );
      expect(callback.status).toBe(400);
      expect(
        (
          await api<{ totalCount: number }>(
            backend(),
            'GET',
            '/approvals?limit=1',
            { token: STATIC_TOKEN },
          )
        ).body.totalCount,
      ).toBe(before);
    });

    it('applies a decision whose IM comment holds a NUL character', async () => {
      const token = await oidcToken(stack);
      const opened = await create(token, { idempotencyKey: randomUUID() });
      await decideInSandbox(stack, opened.body.imInstanceId!, 'approve', {
        openId: 'ou_alice',
        comment: 'fine\u0000\n::warning::x',
      });
      const decided = await waitFor(backend(), opened.body.id, token);
      expect(decided.body).toMatchObject({
        status: 'approved',
        comment: 'fine\uFFFD\n::warning::x',
      });
    });

    it('keeps the IM error on an approval whose IM request was never created, when it expires', async () => {
      // One failed create: the reconciler retries only after 30 s, long after this approval's 3 s.
      await sandboxControl(stack.sandbox, 'POST', '/feishu/faults', {
        route: 'instance.create',
        code: 1,
        msg: 'service unavailable',
        httpStatus: 503,
      });
      const token = await oidcToken(stack);
      const opened = await create(token, {
        idempotencyKey: randomUUID(),
        timeout: '3s',
      });
      expect(opened.status).toBe(201);
      expect(opened.body.imInstanceId).toBeNull();
      expect(opened.body.error).toMatch(/503/);
      const ended = await waitFor(backend(), opened.body.id, token);
      expect(ended.body).toMatchObject({
        status: 'expired',
        error: expect.stringMatching(/503/),
      });
      const { body } = await api<ApprovalWithTimeline>(
        backend(),
        'GET',
        `/approvals/${opened.body.id}`,
        { token },
      );
      expect(body.timeline.at(-1)).toMatchObject({
        type: 'expired',
        message: expect.stringMatching(/never created: .*503/),
      });
    });
  },
);
