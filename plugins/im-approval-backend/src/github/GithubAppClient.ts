import { createAppAuth } from '@octokit/auth-app';
import { request as octokitRequest } from '@octokit/request';

export interface GithubAppSettings {
  appId: string;
  /** PEM (PKCS#1 or PKCS#8), as GitHub hands it out. */
  privateKey: string;
  webhookSecret: string;
  /** https://api.github.com, or https://HOST/api/v3 on GitHub Enterprise Server. */
  apiBaseUrl: string;
}

/** Where a held job's verdict goes: its run, environment and the installation that may answer. */
export interface HeldJob {
  repository: string;
  runId: string;
  environment: string;
  installationId: string;
}

/** GitHub's answer to a call, when it was not a success: its status (none for a network failure) and message. */
export class GithubCallError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = 'GithubCallError';
  }

  /** GitHub no longer holds the job (it was decided, timed out or cancelled): sending again cannot help. */
  get gone(): boolean {
    return this.status === 404 || this.status === 422;
  }
}

/**
 * The backend as a GitHub App: installation tokens (minted with the App's JWT, cached per
 * installation for their lifetime by `@octokit/auth-app`), and the deployment protection rule review.
 */
export class GithubAppClient {
  private readonly request: typeof octokitRequest;
  private readonly auth: ReturnType<typeof createAppAuth>;
  /** The App's installation on each repository's account, by owner: it changes rarely. */
  private readonly installations = new Map<string, number>();

  constructor(settings: GithubAppSettings) {
    this.request = octokitRequest.defaults({
      baseUrl: settings.apiBaseUrl,
      headers: { 'user-agent': 'im-approval-backend' },
    });
    this.auth = createAppAuth({
      appId: settings.appId,
      privateKey: settings.privateKey,
      request: this.request,
    });
  }

  /**
   * Answers a held job: with `state`, GitHub releases it (approved) or fails it (rejected); without,
   * the comment is a status report on the run page.
   */
  async review(
    job: HeldJob,
    body: { state?: 'approved' | 'rejected'; comment: string },
  ): Promise<void> {
    const [owner, repo] = job.repository.split('/');
    try {
      const { token } = await this.auth({
        type: 'installation',
        installationId: Number(job.installationId),
        permissions: { deployments: 'write' },
      });
      await this.request(
        'POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule',
        {
          owner,
          repo,
          run_id: Number(job.runId),
          environment_name: job.environment,
          ...body,
          headers: { authorization: `token ${token}` },
        },
      );
    } catch (error) {
      throw githubError(error);
    }
  }

  /**
   * How many commits `head` is ahead of `base` in the repository (the compare API's `ahead_by`), as
   * the App's installation on it sees it (contents: read). Gives up after `timeoutMs`.
   */
  async commitsAhead(
    repository: string,
    base: string,
    head: string,
    timeoutMs: number,
  ): Promise<number> {
    const [owner, repo] = repository.split('/');
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const installationId = await this.installationOf(owner, repo, signal);
      const { token } = await this.auth({
        type: 'installation',
        installationId,
        permissions: { contents: 'read' },
      });
      const { data } = await this.request(
        'GET /repos/{owner}/{repo}/compare/{basehead}',
        {
          owner,
          repo,
          basehead: `${base}...${head}`,
          per_page: 1,
          headers: { authorization: `token ${token}` },
          request: { signal },
        },
      );
      return data.ahead_by;
    } catch (error) {
      throw githubError(error);
    }
  }

  private async installationOf(
    owner: string,
    repo: string,
    signal: AbortSignal,
  ): Promise<number> {
    const known = this.installations.get(owner.toLowerCase());
    if (known !== undefined) return known;
    const { token } = await this.auth({ type: 'app' });
    const { data } = await this.request(
      'GET /repos/{owner}/{repo}/installation',
      {
        owner,
        repo,
        headers: { authorization: `bearer ${token}` },
        request: { signal },
      },
    );
    this.installations.set(owner.toLowerCase(), data.id);
    return data.id;
  }
}

function githubError(error: unknown): GithubCallError {
  const status = (error as { status?: unknown }).status;
  const message = (error as Error).message;
  return new GithubCallError(
    `GitHub answered ${typeof status === 'number' ? status : 'nothing'}: ${message}`,
    typeof status === 'number' && status > 0 ? status : undefined,
  );
}
