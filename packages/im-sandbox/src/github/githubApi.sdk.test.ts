import { Octokit } from '@octokit/rest';
import { SignJWT, importPKCS8 } from 'jose';
import { createHmac, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSandbox, type Sandbox } from '../server';
import { STATUS_REPORT_LIMIT } from './githubPlatform';

// The sandbox's GitHub as GitHub's own client library sees it: the App's JWT, installation tokens,
// the deployment protection rule review, and webhooks signed as GitHub signs them.

describe("the sandbox's GitHub, through @octokit/rest", () => {
  let sandbox: Sandbox;

  beforeAll(async () => {
    sandbox = await startSandbox();
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  async function appJwt(
    options: { lifetime?: number; key?: string; issuedIn?: number } = {},
  ) {
    const pem = createPrivateKey(options.key ?? sandbox.github.privateKeyPem)
      .export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(String(sandbox.github.appId))
      .setIssuedAt(now + (options.issuedIn ?? -30))
      .setExpirationTime(
        now + (options.issuedIn ?? -30) + (options.lifetime ?? 540),
      )
      .sign(await importPKCS8(pem, 'RS256'));
  }

  async function installationOctokit(
    permissions?: Record<string, 'read' | 'write'>,
  ) {
    const app = new Octokit({
      baseUrl: sandbox.github.apiUrl,
      auth: await appJwt(),
    });
    const { data, status } = await app.request(
      'POST /app/installations/{installation_id}/access_tokens',
      { installation_id: sandbox.github.installationId, permissions },
    );
    expect(status).toBe(201);
    return new Octokit({ baseUrl: sandbox.github.apiUrl, auth: data.token });
  }

  function held() {
    return sandbox.github.runJob({
      repository: 'acme/api',
      environment: 'production',
    });
  }

  it('mints installation tokens for the App, and refuses a JWT it did not sign or that lives too long', async () => {
    const app = new Octokit({
      baseUrl: sandbox.github.apiUrl,
      auth: await appJwt(),
    });
    const { data } = await app.rest.apps.getAuthenticated();
    expect(data).toMatchObject({ id: sandbox.github.appId });

    const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs1', format: 'pem' })
      .toString();
    for (const jwt of [
      await appJwt({ key: other }),
      await appJwt({ lifetime: 3600 }),
      // Issued five minutes ahead of GitHub's clock, though only ten minutes long.
      await appJwt({ issuedIn: 300, lifetime: 300 }),
    ]) {
      const forged = new Octokit({ baseUrl: sandbox.github.apiUrl, auth: jwt });
      await expect(forged.rest.apps.getAuthenticated()).rejects.toMatchObject({
        status: 401,
      });
    }
    await expect(
      app.request('POST /app/installations/{installation_id}/access_tokens', {
        installation_id: sandbox.github.installationId,
        permissions: { administration: 'write' },
      }),
    ).rejects.toMatchObject({ status: 422 });
  });

  it('finds the App’s installation on a repository and compares two commits of its history, with contents read only', async () => {
    const shas = ['a', 'b', 'c', 'd'].map(c => c.repeat(40));
    sandbox.github.commits.set('acme/api', shas);
    const app = new Octokit({
      baseUrl: sandbox.github.apiUrl,
      auth: await appJwt(),
    });
    const { data: installation } = await app.rest.apps.getRepoInstallation({
      owner: 'acme',
      repo: 'api',
    });
    expect(installation.id).toBe(sandbox.github.installationId);
    await expect(
      app.rest.apps.getRepoInstallation({ owner: 'elsewhere', repo: 'api' }),
    ).rejects.toMatchObject({ status: 404 });

    const reader = await installationOctokit({ contents: 'read' });
    const { data } = await reader.rest.repos.compareCommitsWithBasehead({
      owner: 'acme',
      repo: 'api',
      basehead: `${shas[0]!.slice(0, 7)}...${shas[3]}`,
    });
    expect(data).toMatchObject({
      status: 'ahead',
      ahead_by: 3,
      total_commits: 3,
    });
    await expect(
      reader.rest.repos.compareCommitsWithBasehead({
        owner: 'acme',
        repo: 'api',
        basehead: `${shas[0]}...${'e'.repeat(40)}`,
      }),
    ).rejects.toMatchObject({ status: 404 });
    const deployer = await installationOctokit({ deployments: 'write' });
    await expect(
      deployer.rest.repos.compareCommitsWithBasehead({
        owner: 'acme',
        repo: 'api',
        basehead: `${shas[0]}...${shas[3]}`,
      }),
    ).rejects.toMatchObject({ status: 403 });
  });

  it('releases a held job on review, takes at most 10 status reports, and refuses what GitHub refuses', async () => {
    const octokit = await installationOctokit({ deployments: 'write' });
    const run = held();
    const review = (body: {
      state?: 'approved' | 'rejected';
      comment?: string;
      environment_name?: string;
    }) =>
      octokit.request(
        'POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule',
        {
          owner: 'acme',
          repo: 'api',
          run_id: run.id,
          environment_name: 'production',
          ...body,
        } as never,
      );
    // A status report is a comment: without one (and without a state), GitHub refuses it.
    await expect(review({})).rejects.toMatchObject({ status: 422 });
    expect(sandbox.github.runs.get(run.id)!.jobs[0].statusReports).toEqual([]);
    for (let i = 0; i < STATUS_REPORT_LIMIT; i++)
      expect((await review({ comment: `waiting ${i}` })).status).toBe(204);
    await expect(review({ comment: 'one too many' })).rejects.toMatchObject({
      status: 422,
    });
    await expect(review({ comment: 'x'.repeat(1025) })).rejects.toMatchObject({
      status: 422,
    });
    await expect(
      review({ environment_name: 'staging', state: 'approved' }),
    ).rejects.toMatchObject({
      status: 422,
    });
    expect(
      (await review({ state: 'approved', comment: 'Approved by Alice' }))
        .status,
    ).toBe(204);
    expect(sandbox.github.runs.get(run.id)!.jobs[0]).toMatchObject({
      status: 'completed',
      conclusion: 'success',
      review: { state: 'approved', comment: 'Approved by Alice' },
    });
    // Decided: GitHub holds it no more.
    await expect(review({ state: 'rejected' })).rejects.toMatchObject({
      status: 422,
    });

    const readOnly = await installationOctokit({ actions: 'read' });
    await expect(
      readOnly.request(
        'POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule',
        {
          owner: 'acme',
          repo: 'api',
          run_id: held().id,
          environment_name: 'production',
          state: 'approved',
        } as never,
      ),
    ).rejects.toMatchObject({ status: 403 });
    const stranger = new Octokit({
      baseUrl: sandbox.github.apiUrl,
      auth: 'ghs_not-a-token',
    });
    await expect(
      stranger.rest.actions.getWorkflowRun({
        owner: 'acme',
        repo: 'api',
        run_id: run.id,
      }),
    ).rejects.toMatchObject({ status: 401 });
  });

  it('signs each webhook with X-Hub-Signature-256 over the exact body, and redelivers it under the same GUID', async () => {
    const received: Array<{ headers: Record<string, unknown>; body: string }> =
      [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', chunk => (body += chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(received.length === 1 ? 500 : 202).end();
      });
    });
    await new Promise<void>(resolve =>
      receiver.listen(0, '127.0.0.1', resolve),
    );
    sandbox.github.webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    try {
      const run = held();
      const until = async (n: number) => {
        while (received.length < n) await new Promise(r => setTimeout(r, 20));
      };
      await until(1);
      const delivery = sandbox.github.deliveries.find(
        d => d.event === 'deployment_protection_rule',
      )!;
      sandbox.github.redeliver(delivery);
      await until(2);
      for (const { headers, body } of received) {
        expect(headers['x-github-event']).toBe('deployment_protection_rule');
        expect(headers['x-github-delivery']).toBe(delivery.guid);
        expect(headers['x-hub-signature-256']).toBe(
          `sha256=${createHmac('sha256', sandbox.github.webhookSecret).update(body).digest('hex')}`,
        );
        expect(JSON.parse(body)).toMatchObject({
          action: 'requested',
          environment: 'production',
          deployment_callback_url: `${sandbox.github.apiUrl}/repos/acme/api/actions/runs/${run.id}/deployment_protection_rule`,
          installation: { id: sandbox.github.installationId },
        });
      }
      expect(delivery.attempts.map(a => [a.status, a.redelivery])).toEqual([
        [500, false],
        [202, true],
      ]);
    } finally {
      sandbox.github.webhookUrl = undefined;
      await new Promise(resolve => receiver.close(resolve));
    }
  });
});
