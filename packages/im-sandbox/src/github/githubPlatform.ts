import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  type KeyObject,
} from 'node:crypto';
import { z } from 'zod';

// GitHub's side of custom deployment protection rules, as its documentation describes it: an App
// with one installation, installation tokens minted with the App's JWT, jobs held on an environment
// until the App reviews them, status reports (at most 10 per deployment, 1,024 characters each),
// and webhooks signed with X-Hub-Signature-256, redelivered only when asked (GitHub never retries
// on its own). GitHub counts a delivery as failed when its answer takes longer than 10 s.

export const STATUS_REPORT_LIMIT = 10;
export const COMMENT_LIMIT = 1024;
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** Installation tokens live an hour. */
export const TOKEN_LIFETIME_MS = 3_600_000;

export interface GithubJob {
  id: number;
  name: string;
  environment: string;
  deploymentId: number;
  /** waiting: held for the App; completed: released (success), refused (failure) or cancelled. */
  status: 'waiting' | 'completed';
  conclusion: 'success' | 'failure' | 'cancelled' | null;
  review: {
    state: 'approved' | 'rejected';
    comment: string;
    at: string;
  } | null;
  statusReports: Array<{ comment: string; at: string }>;
}

export interface GithubRun {
  id: number;
  repository: string;
  workflow: string;
  event: string;
  ref: string;
  sha: string;
  actor: string;
  createdAt: string;
  status: 'queued' | 'completed';
  conclusion: string | null;
  jobs: GithubJob[];
}

export interface WebhookAttempt {
  at: string;
  /** The HTTP status, or null when nothing came back in time. */
  status: number | null;
  error: string | null;
  redelivery: boolean;
}

export interface WebhookDelivery {
  guid: string;
  event: string;
  action: string | null;
  payload: object;
  attempts: WebhookAttempt[];
}

/** "A workflow job targets environment X": what the sandbox needs to run one, with GitHub-like defaults. */
export const heldJobRequestSchema = z.object({
  repository: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'expected owner/name'),
  environment: z.string().min(1).max(255),
  workflow: z.string().min(1).default('deploy'),
  job: z.string().min(1).default('deploy'),
  event: z.string().min(1).default('push'),
  ref: z.string().min(1).default('refs/heads/main'),
  sha: z
    .string()
    .regex(/^[0-9a-f]{7,40}$/, 'expected a commit SHA')
    .default('6dcb09b5b57875f334f61aebed695e2e4193db5e'),
  actor: z.string().min(1).default('octocat'),
});
export type HeldJobRequest = z.input<typeof heldJobRequestSchema>;

export const githubAppSeedSchema = z.object({
  appId: z.number().int().positive().optional(),
  webhookSecret: z.string().min(1).optional(),
  webhookUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** The account (organisation or user) the App is installed on; every repository of it. */
  installationAccount: z.string().min(1).optional(),
  /** The App's private key (PEM); a new one is made at start when absent. */
  privateKeyPem: z
    .string()
    .regex(/-----BEGIN (RSA )?PRIVATE KEY-----/, 'expected a PEM private key')
    .optional(),
});
export type GithubAppSeed = z.input<typeof githubAppSeedSchema>;

export class GithubPlatform {
  readonly appId: number;
  readonly clientId: string;
  readonly installationId = 1;
  readonly installationAccount: string;
  readonly webhookSecret: string;
  readonly privateKeyPem: string;
  readonly publicKey: KeyObject;
  webhookUrl: string | undefined;
  apiUrl = '';
  readonly tokens = new Map<
    string,
    {
      installationId: number;
      expiresAt: number;
      permissions: Record<string, string>;
    }
  >();
  readonly runs = new Map<number, GithubRun>();
  /** Each repository's commits on its history, oldest first (full SHAs), for the compare API. */
  readonly commits = new Map<string, string[]>();
  readonly deliveries: WebhookDelivery[] = [];
  /** Every review call that reached a run (status reports included), with GitHub's answer. */
  readonly reviewLog: Array<{
    runId: number;
    environment: string;
    state: string | null;
    status: number;
  }> = [];
  /** Faults: this many review calls with a state answer 503 before GitHub takes them again. */
  reviewFailures = 0;
  /** Faults: this many reviews with a state and a comment are refused (422) for their comment. */
  commentRefusals = 0;
  private nextId = 1000;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    seed: GithubAppSeed,
    private readonly log: (line: string) => void,
  ) {
    this.appId = seed.appId ?? 424242;
    this.clientId = `Iv23sandbox${this.appId}`;
    this.installationAccount = seed.installationAccount ?? 'acme';
    this.webhookSecret = seed.webhookSecret ?? randomBytes(20).toString('hex');
    this.webhookUrl = seed.webhookUrl;
    const privateKey = seed.privateKeyPem
      ? createPrivateKey(seed.privateKeyPem)
      : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    this.privateKeyPem = privateKey
      .export({ type: 'pkcs1', format: 'pem' })
      .toString();
    this.publicKey = createPublicKey(privateKey);
  }

  /** The permissions the App was granted on its installation. */
  readonly permissions: Record<string, string> = {
    deployments: 'write',
    actions: 'read',
    contents: 'read',
    metadata: 'read',
  };

  mintToken(requested: Record<string, string> | undefined) {
    const token = `ghs_${randomBytes(18).toString('hex')}`;
    const permissions = requested ?? this.permissions;
    const expiresAt = Date.now() + TOKEN_LIFETIME_MS;
    this.tokens.set(token, {
      installationId: this.installationId,
      expiresAt,
      permissions,
    });
    return { token, expiresAt: new Date(expiresAt).toISOString(), permissions };
  }

  /** "A workflow job targets environment X": the run starts, the job is held and the App is asked. */
  runJob(asked: HeldJobRequest): GithubRun {
    const request = heldJobRequestSchema.parse(asked);
    const run: GithubRun = {
      id: this.nextId++,
      repository: request.repository,
      workflow: request.workflow,
      event: request.event,
      ref: request.ref,
      sha: request.sha,
      actor: request.actor,
      createdAt: new Date().toISOString(),
      status: 'queued',
      conclusion: null,
      jobs: [
        {
          id: this.nextId++,
          name: request.job,
          environment: request.environment,
          deploymentId: this.nextId++,
          status: 'waiting',
          conclusion: null,
          review: null,
          statusReports: [],
        },
      ],
    };
    this.runs.set(run.id, run);
    const job = run.jobs[0];
    this.send('deployment_protection_rule', {
      action: 'requested',
      environment: job.environment,
      event: run.event,
      ref: run.ref,
      sha: run.sha,
      deployment_callback_url: `${this.apiUrl}/repos/${run.repository}/actions/runs/${run.id}/deployment_protection_rule`,
      deployment: {
        id: job.deploymentId,
        url: `${this.apiUrl}/repos/${run.repository}/deployments/${job.deploymentId}`,
        sha: run.sha,
        ref: run.ref,
        environment: job.environment,
        creator: { login: run.actor },
      },
      pull_requests: [],
      ...this.envelope(run),
    });
    return run;
  }

  /** The App's review: releases or fails the job; then the run completes, and says so. */
  review(
    run: GithubRun,
    job: GithubJob,
    state: 'approved' | 'rejected',
    comment: string,
  ) {
    job.review = { state, comment, at: new Date().toISOString() };
    job.status = 'completed';
    job.conclusion = state === 'approved' ? 'success' : 'failure';
    this.later(() => this.complete(run, job.conclusion!));
  }

  /** Someone cancels the run on GitHub: the held job is cancelled, and both completions are sent. */
  cancel(run: GithubRun) {
    for (const job of run.jobs) {
      if (job.status === 'completed') continue;
      job.status = 'completed';
      job.conclusion = 'cancelled';
      this.send('workflow_job', {
        action: 'completed',
        workflow_job: {
          id: job.id,
          run_id: run.id,
          name: job.name,
          status: 'completed',
          conclusion: 'cancelled',
        },
        ...this.envelope(run),
      });
    }
    this.complete(run, 'cancelled');
  }

  /**
   * The compare API's answer for `base...head` on one line of history: how far head is ahead of
   * and behind base; undefined when either is not a commit of the repository (a full or 7+ prefix).
   */
  compare(repository: string, base: string, head: string) {
    const history = this.commits.get(repository) ?? [];
    const at = (ref: string) =>
      ref.length >= 7
        ? history.findIndex(sha => sha.startsWith(ref.toLowerCase()))
        : -1;
    const [from, to] = [at(base), at(head)];
    if (from < 0 || to < 0) return undefined;
    const ahead = Math.max(0, to - from);
    const behind = Math.max(0, from - to);
    let status = 'identical';
    if (ahead > 0) status = 'ahead';
    else if (behind > 0) status = 'behind';
    return {
      status,
      ahead_by: ahead,
      behind_by: behind,
      total_commits: ahead,
      commits: history.slice(from + 1, to + 1).map(sha => ({ sha })),
    };
  }

  /** Sends the delivery again, under the same GUID, as the App settings' "Redeliver" does. */
  redeliver(delivery: WebhookDelivery) {
    void this.attempt(delivery, true);
  }

  reset() {
    this.reviewLog.length = 0;
    this.reviewFailures = 0;
    this.commentRefusals = 0;
    this.runs.clear();
    this.commits.clear();
    this.deliveries.length = 0;
    this.tokens.clear();
  }

  close() {
    this.timers.forEach(timer => clearTimeout(timer));
    this.timers.clear();
  }

  private complete(run: GithubRun, conclusion: string) {
    if (run.status === 'completed') return;
    run.status = 'completed';
    run.conclusion = conclusion;
    this.send('workflow_run', {
      action: 'completed',
      workflow_run: {
        id: run.id,
        name: run.workflow,
        status: 'completed',
        conclusion,
        head_sha: run.sha,
      },
      ...this.envelope(run),
    });
  }

  private envelope(run: GithubRun) {
    const [owner] = run.repository.split('/');
    return {
      repository: {
        full_name: run.repository,
        name: run.repository.split('/')[1],
        owner: { login: owner },
        html_url: `https://github.com/${run.repository}`,
      },
      organization: { login: owner },
      installation: { id: this.installationId },
      sender: { login: run.actor },
    };
  }

  private send(event: string, payload: Record<string, unknown>) {
    const delivery: WebhookDelivery = {
      guid: randomUUID(),
      event,
      action: typeof payload.action === 'string' ? payload.action : null,
      payload,
      attempts: [],
    };
    this.deliveries.unshift(delivery);
    void this.attempt(delivery, false);
  }

  private async attempt(delivery: WebhookDelivery, redelivery: boolean) {
    const attempt: WebhookAttempt = {
      at: new Date().toISOString(),
      status: null,
      error: null,
      redelivery,
    };
    delivery.attempts.push(attempt);
    if (!this.webhookUrl) {
      attempt.error = 'the App has no webhook URL';
      return;
    }
    const body = JSON.stringify(delivery.payload);
    try {
      const response = await fetch(this.webhookUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'GitHub-Hookshot/sandbox',
          'x-github-event': delivery.event,
          'x-github-delivery': delivery.guid,
          'x-github-hook-id': '1',
          'x-github-hook-installation-target-type': 'integration',
          'x-github-hook-installation-target-id': String(this.appId),
          'x-hub-signature-256': `sha256=${createHmac('sha256', this.webhookSecret).update(body).digest('hex')}`,
        },
        body,
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
      await response.arrayBuffer();
      attempt.status = response.status;
    } catch (error) {
      attempt.error =
        (error as Error).name === 'TimeoutError'
          ? `no answer within ${WEBHOOK_TIMEOUT_MS / 1000} s`
          : (error as Error).message;
    }
    this.log(
      `GitHub sandbox: ${delivery.event} ${delivery.guid} → ${attempt.status ?? attempt.error}`,
    );
  }

  private later(fn: () => void) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, 200);
    this.timers.add(timer);
  }
}
