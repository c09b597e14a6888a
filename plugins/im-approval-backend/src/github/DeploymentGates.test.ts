import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import { startSandbox, type Sandbox } from '@im-approval/im-sandbox';
import {
  gateSchema,
  templateSchema,
  type Approval,
} from '@im-approval/plugin-im-approval-common';
import { randomUUID } from 'node:crypto';
import { DatabaseGateStore } from '../database/DatabaseGateStore';
import { DatabaseGithubSettingsStore } from '../database/DatabaseGithubSettingsStore';
import { GithubSettings } from '../settings/GithubSettings';
import { migratedClient } from '../database/migratedClient';
import {
  DeploymentGates,
  heldJobKey,
  reportBackoffMs,
  STATUS_REPORT_LIMIT,
} from './DeploymentGates';
import { verdictComment, waitingReport } from './gateComments';
import { deploymentProtectionRuleSchema } from './githubEvents';

// The gate's own logic against a real database and the sandbox's GitHub over HTTP; the approval
// side (service, opener) is the only stand-in, as the end-to-end suite covers it for real.

const TEMPLATE = templateSchema.parse({
  name: 'deploy',
  integration: 'feishu',
  form: 'DEPLOY',
  approvers: ['alice@example.com'],
});
const GATE = gateSchema.parse({
  name: 'production',
  environments: ['production'],
  template: 'deploy',
  variables: { service: '${repository} by ${actor}' },
});

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

describe('DeploymentGates', () => {
  let sandbox: Sandbox;
  let store: DatabaseGateStore;
  let gates: DeploymentGates;
  const stored: unknown[] = [];
  let tellAttempt: (approval: Approval) => void = () => undefined;

  beforeAll(async () => {
    sandbox = await startSandbox();
    const knex = await databases.init('SQLITE_3');
    await migratedClient({ getClient: async () => knex });
    store = new DatabaseGateStore(knex);
    gates = new DeploymentGates({
      github: new GithubSettings({
        configApp: {
          appId: String(sandbox.github.appId),
          privateKey: sandbox.github.privateKeyPem,
          webhookSecret: sandbox.github.webhookSecret,
          apiBaseUrl: sandbox.github.apiUrl,
        },
        configGates: [GATE],
        store: new DatabaseGithubSettingsStore(knex),
        templateExists: async () => true,
      }),
      store,
      approvals: {} as never,
      service: {
        storeForGate: async (_template: unknown, request: unknown) => {
          stored.push(request);
          return {
            approval: {
              id: randomUUID(),
              imInstanceId: 'i-1',
              status: 'pending',
            },
            created: true,
          };
        },
      } as never,
      settings: { template: async () => TEMPLATE } as never,
      opener: {
        onAttempt: (listener: (approval: Approval) => void) => {
          tellAttempt = listener;
        },
      } as never,
      transitions: { onFinished: () => undefined } as never,
      githubServerUrl: 'https://github.example.com',
      logger: mockServices.logger.mock(),
    });
  });

  afterAll(async () => {
    await gates?.settled();
    await sandbox?.close();
  });

  function heldRun() {
    return sandbox.github.runJob({
      repository: 'acme/api',
      environment: 'production',
    });
  }

  function eventFor(runId: number) {
    return deploymentProtectionRuleSchema.parse({
      action: 'requested',
      environment: 'production',
      event: 'pull_request',
      ref: 'refs/heads/main',
      sha: '6dcb09b5b57875f334f61aebed695e2e4193db5e',
      deployment_callback_url: `${sandbox.github.apiUrl}/repos/acme/api/actions/runs/${runId}/deployment_protection_rule`,
      deployment: { id: runId + 1, creator: { login: 'mona' } },
      pull_requests: [{ number: 12 }, { number: 15 }],
      repository: { full_name: 'acme/api' },
      installation: { id: sandbox.github.installationId },
      sender: { login: 'octocat' },
    });
  }

  it("opens the approval from the event's verified context and the gate's variables", async () => {
    const run = heldRun();
    await expect(gates.requested(eventFor(run.id))).resolves.toMatch(
      new RegExp(`for run ${run.id}$`),
    );
    const record = await store.get(
      heldJobKey('acme/api', String(run.id), 'production', String(run.id + 1)),
    );
    expect(record).toMatchObject({
      gate: 'production',
      repository: 'acme/api',
      runId: String(run.id),
      environment: 'production',
      installationId: String(sandbox.github.installationId),
      approvalId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(stored.at(-1)).toEqual({
      idempotencyKey: `gate:${record!.id}`,
      context: {
        repository: 'acme/api',
        ref: 'refs/heads/main',
        sha: '6dcb09b5b57875f334f61aebed695e2e4193db5e',
        actor: 'mona',
        environment: 'production',
        eventName: 'pull_request',
        runId: String(run.id),
        serverUrl: 'https://github.example.com',
        verified: true,
        caller: 'github-gate:acme/api',
        runUrl: `https://github.example.com/acme/api/actions/runs/${run.id}`,
        gate: 'production',
      },
      variables: {
        event: 'pull_request',
        pullRequests: '#12, #15',
        service: 'acme/api by mona',
      },
      timeout: undefined,
    });
    // Asked again for the same job: nothing new is opened.
    await expect(gates.requested(eventFor(run.id))).resolves.toMatch(
      /^already recorded/,
    );
    expect(stored).toHaveLength(1);
  });

  it("posts status reports up to GitHub's limit and no more", async () => {
    const run = heldRun();
    await gates.requested(eventFor(run.id));
    const record = (await store.get(
      heldJobKey('acme/api', String(run.id), 'production', String(run.id + 1)),
    ))!;
    const posted: boolean[] = [];
    for (let i = 0; i < STATUS_REPORT_LIMIT + 2; i++)
      posted.push(await gates.statusReport(record, `report ${i}`));
    expect(posted.filter(Boolean)).toHaveLength(STATUS_REPORT_LIMIT);
    expect(posted.slice(STATUS_REPORT_LIMIT)).toEqual([false, false]);
    const job = sandbox.github.runs.get(run.id)!.jobs[0];
    expect(job.statusReports.map(r => r.comment)).toEqual(
      Array.from({ length: STATUS_REPORT_LIMIT }, (_, i) => `report ${i}`),
    );
    // The reports left over were never sent, so GitHub refused nothing.
    expect(
      sandbox.github.reviewLog.filter(
        r => r.runId === run.id && r.status !== 204,
      ),
    ).toEqual([]);
    expect(job.status).toBe('waiting');
  });

  it('tells the run page when the IM cannot take the request yet, and when its instance is made, whoever makes it', async () => {
    const run = heldRun();
    await gates.requested(eventFor(run.id));
    const record = (await store.get(
      heldJobKey('acme/api', String(run.id), 'production', String(run.id + 1)),
    ))!;
    const approval = {
      id: record.approvalId!,
      provider: 'feishu',
      status: 'pending',
      approvers: ['alice@example.com'],
      context: { gate: 'production' },
      imUrl: null,
      createdAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    } as unknown as Approval;
    tellAttempt({
      ...approval,
      imInstanceId: null,
      error: 'Feishu answered 500',
    });
    tellAttempt({
      ...approval,
      imInstanceId: 'inst-1',
      imUrl: 'https://im.example/inst-1',
    });
    // Not a gate's approval: nothing is posted for it.
    tellAttempt({
      ...approval,
      id: randomUUID(),
      context: {},
    } as unknown as Approval);
    await gates.settled();
    expect(
      sandbox.github.runs
        .get(run.id)!
        .jobs[0].statusReports.map(r => r.comment),
    ).toEqual([
      'Could not open the approval in Feishu/Lark yet: “Feishu answered 500”; it is tried again shortly',
      expect.stringMatching(
        /^Waiting for approval in Feishu\/Lark from alice\\@example\\\.com · \[Open in Feishu\/Lark\]\(https:\/\/im\.example\/inst-1\) · 1h left/,
      ),
    ]);
  });

  it("sends the verdict in its own words when GitHub refuses the comment, so people's text never strands the job", async () => {
    const run = heldRun();
    await gates.requested(eventFor(run.id));
    const id = heldJobKey(
      'acme/api',
      String(run.id),
      'production',
      String(run.id + 1),
    );
    await store.setVerdict(id, 'rejected', 'Rejected by gate production: …');
    sandbox.github.commentRefusals = 1;
    await gates.reportDue();
    expect(sandbox.github.runs.get(run.id)!.jobs[0].review).toMatchObject({
      state: 'rejected',
      comment: 'Rejected in IM approval (the comment could not be posted)',
    });
    expect(
      sandbox.github.reviewLog
        .filter(r => r.runId === run.id && r.state)
        .map(r => r.status),
    ).toEqual([422, 204]);
    // Sent: nothing is due any more.
    expect(await gates.reportDue()).toBe(0);
  });

  it('backs off 2 s, 4 s, 8 s … up to 10 minutes', () => {
    expect([1, 2, 3, 9, 10, 30].map(reportBackoffMs)).toEqual([
      2000, 4000, 8000, 512_000, 600_000, 600_000,
    ]);
  });
});

describe('gate comments', () => {
  const approval = {
    id: '00000000-0000-4000-8000-000000000002',
    provider: 'dingtalk',
    status: 'approved',
    approvers: ['[click](https://evil.example) @acme/everyone'],
    decidedBy: '<img src=x> @octocat',
    comment: 'fine\n## by me',
    error: null,
    imUrl: 'https://im.example/i/1',
    createdAt: '2026-12-01T10:00:00.000Z',
    expiresAt: '2026-12-01T12:00:00.000Z',
  } as unknown as Approval;

  it('keeps names and comments from people inert in Markdown', () => {
    const { state, comment } = verdictComment(approval, undefined);
    expect(state).toBe('approved');
    expect(comment).toBe(
      'Approved by \\<img src=x\\> \\@octocat in DingTalk: “fine \\#\\# by me”',
    );
    const report = waitingReport(
      approval,
      'https://backstage.example/im-approval/approvals/x',
      Date.parse('2026-12-01T11:30:00Z'),
    );
    expect(report).toBe(
      'Waiting for approval in DingTalk from \\[click\\]\\(https://evil\\.example\\) \\@acme/everyone · ' +
        '[Open in DingTalk](https://im.example/i/1) · ' +
        '[Approval in Backstage](https://backstage.example/im-approval/approvals/x) · ' +
        '30m left (until 2026-12-01T12:00:00Z)',
    );
  });

  it('turns line breaks, NUL and other control characters into spaces, and keeps a link from breaking out', () => {
    const { comment } = verdictComment(
      {
        ...approval,
        decidedBy: 'Eve\u0000\r\n::error::x',
        comment: 'a\u2028b\u0007c\ud800',
      },
      'https://backstage.example/a) [x](https://evil.example',
    );
    expect(comment).toBe(
      'Approved by Eve ::error::x in DingTalk: “a b c\ufffd” · ' +
        '[Approval in Backstage](https://backstage.example/a%29%20%5Bx%5D%28https://evil.example)',
    );
    expect([...comment].filter(char => char.charCodeAt(0) < 0x20)).toEqual([]);
  });

  it('says what happened when nobody decided, and fits 1,024 characters', () => {
    const expired = verdictComment(
      { ...approval, status: 'expired', comment: 'x'.repeat(5000) },
      undefined,
    );
    expect(expired).toEqual({
      state: 'rejected',
      comment:
        'Rejected: nobody decided in DingTalk within 2h; the approval expired',
    });
    const long = verdictComment(
      { ...approval, status: 'rejected', comment: 'y'.repeat(5000) },
      undefined,
    );
    expect(long.comment).toHaveLength(1024);
    expect(long.comment.endsWith('…')).toBe(true);
  });
});
