import {
  ApprovalsClient,
  type ApprovalsClientOptions,
} from './ApprovalsClient';
import { Backoff } from './backoff';
import { approval, ID } from './testing/approval';
import {
  startScriptedBackend,
  type ScriptedBackend,
} from './testing/scriptedBackend';
import { waitForDecision } from './waitForDecision';

describe('waitForDecision', () => {
  it('long-polls again after each pending answer, logging progress about once a minute', async () => {
    // Each answer comes back 30 s later on the Action's clock.
    let clock = Date.parse('2026-11-21T08:00:00.000Z');
    const after30s = (body: object) => () => {
      clock += 30_000;
      return { status: 200, body };
    };
    const backend = await startScriptedBackend([
      ...Array.from({ length: 4 }, () => after30s(approval())),
      after30s(
        approval({ status: 'approved', decidedBy: 'alice@example.com' }),
      ),
    ]);
    try {
      const client = clientFor(backend);
      const lines: string[] = [];
      const decided = await waitForDecision(client, approval(), {
        log: line => lines.push(line),
        now: () => clock,
      });

      expect(decided).toMatchObject({
        status: 'approved',
        decidedBy: 'alice@example.com',
      });
      expect(backend.requests.map(r => r.url)).toEqual(
        Array(5).fill(`/api/im-approval/approvals/${ID}/wait?timeout=600s`),
      );
      expect(lines).toEqual([
        'Waiting for a decision on "Deploy api" (template deploy), approvers alice@example.com in feishu: https://im.example.com/INST-1; 59m left.',
        'Waiting for a decision on "Deploy api" (template deploy), approvers alice@example.com in feishu: https://im.example.com/INST-1; 58m left.',
      ]);
    } finally {
      await backend.close();
    }
  });

  it('says at once when a stage moves on, naming the stage that waits and on whom', async () => {
    let clock = Date.parse('2026-11-21T08:00:00.000Z');
    const stage = (
      status: 'waiting' | 'pending' | 'approved',
      extra: { name?: string; approvedBy?: string[]; waitingOn?: string[] },
    ) => ({
      name: extra.name ?? null,
      rule: 'all' as const,
      approvers: ['ou_lead', 'ou_sre'],
      status,
      approvedBy: extra.approvedBy ?? [],
      waitingOn: extra.waitingOn ?? [],
      atLeast: null,
      rejectedBy: [],
      requests: [],
    });
    const pending = (stages: ReturnType<typeof stage>[]) => () => {
      clock += 5_000;
      return { status: 200, body: approval({ stages }) };
    };
    const backend = await startScriptedBackend([
      pending([
        stage('pending', { name: 'Team lead', waitingOn: ['ou_lead'] }),
        stage('waiting', { name: 'SRE' }),
      ]),
      pending([
        stage('approved', { name: 'Team lead', approvedBy: ['Lee'] }),
        stage('pending', { name: 'SRE', waitingOn: ['ou_sre', 'ou_ops'] }),
      ]),
      () => ({ status: 200, body: approval({ status: 'approved' }) }),
    ]);
    try {
      const client = clientFor(backend);
      const lines: string[] = [];
      const first = approval({
        stages: [
          stage('pending', { name: 'Team lead', waitingOn: ['ou_lead'] }),
          stage('waiting', { name: 'SRE' }),
        ],
      });
      await waitForDecision(client, first, {
        log: line => lines.push(line),
        now: () => clock,
      });
      // The first answer changed nothing and came 5 s later: no line. The second moved a stage on.
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(
        '; stage 2 of 2 (SRE, all of) waits on ou_sre, ou_ops;',
      );
    } finally {
      await backend.close();
    }
  });

  it('carries on across a backend restart: dropped connections, then the empty 404s and 503s of a backend starting', async () => {
    const backend = await startScriptedBackend([
      approvalReply(),
      'drop',
      { status: 404, body: '' },
      {
        status: 503,
        body: {
          error: {
            name: 'ServiceUnavailableError',
            message: 'Service has not started up yet',
          },
          response: { statusCode: 503 },
        },
      },
      { status: 404, body: '' },
      approvalReply({
        status: 'rejected',
        decidedBy: 'bob@example.com',
        comment: 'not today',
      }),
    ]);
    try {
      const retries: string[] = [];
      const client = clientFor(backend, {
        onRetry: problem => retries.push(problem),
        backoff: () => new Backoff({ initialMs: 1, maxMs: 5 }),
      });
      const pending = approval({
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      });
      await expect(
        waitForDecision(client, pending, { log: () => {} }),
      ).resolves.toMatchObject({ status: 'rejected', comment: 'not today' });
      expect(retries).toEqual([
        expect.stringMatching(/^Backstage could not be reached/),
        expect.stringMatching(
          /^Backstage answered 404: an empty body, not the im-approval plugin's answer/,
        ),
        'Backstage answered 503: Service has not started up yet',
        expect.stringMatching(/^Backstage answered 404: an empty body/),
      ]);
    } finally {
      await backend.close();
    }
  });
  it('reads an answer that came after heartbeats, and asks again when a held poll is cut after them', async () => {
    const backend = await startScriptedBackend([
      { ...approvalReply(), heartbeats: 3 },
      { status: 200, body: 'drop', heartbeats: 2 },
      {
        ...approvalReply({ status: 'approved', decidedBy: 'alice' }),
        heartbeats: 2,
      },
    ]);
    try {
      const retries: string[] = [];
      const client = clientFor(backend, {
        onRetry: problem => retries.push(problem),
        backoff: () => new Backoff({ initialMs: 1, maxMs: 5 }),
      });
      await expect(
        waitForDecision(client, approvalReply().body, { log: () => {} }),
      ).resolves.toMatchObject({ status: 'approved', decidedBy: 'alice' });
      expect(backend.remaining()).toBe(0);
      expect(retries).toEqual([
        expect.stringMatching(/^Backstage could not be reached/),
      ]);
    } finally {
      await backend.close();
    }
  });

  it('holds two minutes at a time on a backend that refuses longer holds', async () => {
    const refusal = {
      status: 400,
      body: {
        error: {
          name: 'InputError',
          message: 'query.timeout: must be at most 120s',
        },
        response: { statusCode: 400 },
      },
    };
    const backend = await startScriptedBackend([
      refusal,
      approvalReply(),
      approvalReply({ status: 'approved' }),
    ]);
    try {
      const client = clientFor(backend);
      await expect(
        waitForDecision(client, approvalReply().body, { log: () => {} }),
      ).resolves.toMatchObject({ status: 'approved' });
      expect(backend.requests.map(r => r.url)).toEqual([
        `/api/im-approval/approvals/${ID}/wait?timeout=600s`,
        `/api/im-approval/approvals/${ID}/wait?timeout=120s`,
        `/api/im-approval/approvals/${ID}/wait?timeout=120s`,
      ]);
    } finally {
      await backend.close();
    }
  });

  it('fails on any other refusal of the wait, without asking again', async () => {
    const backend = await startScriptedBackend([
      {
        status: 400,
        body: {
          error: { name: 'InputError', message: 'path.id: expected a UUID' },
          response: { statusCode: 400 },
        },
      },
    ]);
    try {
      const client = clientFor(backend);
      await expect(
        waitForDecision(client, approvalReply().body, { log: () => {} }),
      ).rejects.toThrow(/path\.id: expected a UUID/);
      expect(backend.requests).toHaveLength(1);
    } finally {
      await backend.close();
    }
  });

  it('logs progress while one long-poll is held', async () => {
    const backend = await startScriptedBackend([
      {
        ...approvalReply({ status: 'approved' }),
        // 40 beats of 10 ms: the one answer comes after about 400 ms.
        heartbeats: 40,
      },
    ]);
    try {
      const client = clientFor(backend);
      const lines: string[] = [];
      await waitForDecision(client, approvalReply().body, {
        log: line => lines.push(line),
        progressEveryMs: 100,
      });
      expect(backend.requests).toHaveLength(1);
      expect(lines.length).toBeGreaterThanOrEqual(2);
      expect(lines[0]).toMatch(/^Waiting for a decision on "Deploy api"/);
    } finally {
      await backend.close();
    }
  });
});

function clientFor(
  backend: ScriptedBackend,
  options: Partial<ApprovalsClientOptions> = {},
) {
  return new ApprovalsClient({
    apiUrl: backend.apiUrl,
    identity: { kind: 'token', token: async () => 't' },
    onRetry: () => {},
    ...options,
  });
}

function approvalReply(overrides: Parameters<typeof approval>[0] = {}) {
  return {
    status: 200,
    body: approval({
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      ...overrides,
    }),
  };
}
