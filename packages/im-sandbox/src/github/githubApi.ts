import express, { Router, type Request, type Response } from 'express';
import { decodeJwt, jwtVerify } from 'jose';
import { z } from 'zod';
import { describeIssues } from '../validation';
import {
  COMMENT_LIMIT,
  STATUS_REPORT_LIMIT,
  type GithubPlatform,
} from './githubPlatform';

// GitHub's REST API as an App uses it, at /api/v3 (GitHub Enterprise Server's layout), with
// GitHub's answers: 401 "Bad credentials", 403 "Resource not accessible by integration", 404 for
// what the token cannot see, 422 for a request GitHub cannot process.
// Documented (REST reference, "Generating a JWT for a GitHub App", "Review custom deployment
// protection rules for a workflow run"): the JWT's iat at most 60 s ahead and exp at most 10 minutes
// ahead; deployments: write for the review; `comment` required when `state` is absent; 204. The
// status reports' limits (10 per deployment, 1,024 characters) are the design's reading of GitHub's
// guide; which code GitHub answers past them, or for a job no longer held, is not documented: the
// sandbox answers 422, as GitHub does for a request it cannot process.

/** GitHub takes a JWT that expires at most 10 minutes ahead, issued at most 60 s ahead of its clock. */
const MAX_JWT_AHEAD_S = 600;
const CLOCK_DRIFT_S = 60;

function fail(res: Response, status: number, message: string) {
  res.status(status).json({
    message,
    documentation_url: 'https://docs.github.com/rest',
    status: String(status),
  });
}

function bearer(req: Request): string | undefined {
  return req.header('authorization')?.match(/^(?:Bearer|token)\s+(\S+)$/i)?.[1];
}

const reviewSchema = z
  .object({
    environment_name: z.string().min(1),
    state: z.enum(['approved', 'rejected']).optional(),
    comment: z
      .string()
      .max(COMMENT_LIMIT, `must be at most ${COMMENT_LIMIT} characters`)
      .optional(),
  })
  .refine(body => body.state !== undefined || body.comment !== undefined, {
    path: ['comment'],
    message: 'required when state is not provided',
  });

const tokenRequestSchema = z
  .object({
    permissions: z.record(z.string(), z.enum(['read', 'write'])).optional(),
    repositories: z.array(z.string()).optional(),
  })
  .default({});

const LEVEL = { read: 1, write: 2 } as Record<string, number>;

export function githubApi(github: GithubPlatform): Router {
  const router = Router();
  router.use(express.json({ limit: '1mb' }));

  /** The App's JWT: RS256 with its key, `iss` its id or client id, short-lived. */
  async function appJwt(req: Request, res: Response): Promise<boolean> {
    const token = bearer(req);
    if (!token) {
      fail(res, 401, 'A JSON web token could not be decoded');
      return false;
    }
    try {
      const { payload } = await jwtVerify(token, github.publicKey, {
        algorithms: ['RS256'],
        clockTolerance: CLOCK_DRIFT_S,
      });
      const iss = String(payload.iss);
      if (iss !== String(github.appId) && iss !== github.clientId)
        throw new Error("'Issuer' claim ('iss') must be the App's id");
      if (payload.iat === undefined || payload.exp === undefined)
        throw new Error(
          "'Issued at' and 'Expiration time' claims are required",
        );
      const now = Math.floor(Date.now() / 1000);
      if (payload.iat > now + CLOCK_DRIFT_S)
        throw new Error(
          "'Issued at' claim ('iat') must be an Integer representing a time in the past",
        );
      if (payload.exp > now + MAX_JWT_AHEAD_S + CLOCK_DRIFT_S)
        throw new Error(
          "'Expiration time' claim ('exp') is too far in the future",
        );
      return true;
    } catch (error) {
      const claims = (() => {
        try {
          return decodeJwt(token);
        } catch {
          return undefined;
        }
      })();
      fail(
        res,
        401,
        claims
          ? `${(error as Error).message}`
          : 'A JSON web token could not be decoded',
      );
      return false;
    }
  }

  router.get('/app', async (req, res) => {
    if (!(await appJwt(req, res))) return;
    res.json({
      id: github.appId,
      client_id: github.clientId,
      slug: 'im-approval-sandbox',
      name: 'IM approval (sandbox)',
      permissions: github.permissions,
      events: ['deployment_protection_rule', 'workflow_run', 'workflow_job'],
    });
  });

  router.post('/app/installations/:id/access_tokens', async (req, res) => {
    if (!(await appJwt(req, res))) return;
    if (Number(req.params.id) !== github.installationId) {
      fail(res, 404, 'Not Found');
      return;
    }
    const body = tokenRequestSchema.safeParse(req.body ?? {});
    if (!body.success) {
      fail(res, 422, describeIssues(body.error));
      return;
    }
    const requested = body.data.permissions;
    for (const [name, level] of Object.entries(requested ?? {})) {
      if ((LEVEL[github.permissions[name]] ?? 0) < LEVEL[level]) {
        fail(
          res,
          422,
          `The permissions requested are not granted to this installation: ${name}: ${level}`,
        );
        return;
      }
    }
    const minted = github.mintToken(requested);
    res.status(201).json({
      token: minted.token,
      expires_at: minted.expiresAt,
      permissions: minted.permissions,
      repository_selection: 'all',
    });
  });

  /** An installation token that can see the repository, or the answer GitHub gives instead. */
  function installationToken(req: Request, res: Response, owner: string) {
    const token = bearer(req);
    const held = token ? github.tokens.get(token) : undefined;
    if (!held || held.expiresAt <= Date.now()) {
      fail(res, 401, 'Bad credentials');
      return undefined;
    }
    if (owner.toLowerCase() !== github.installationAccount.toLowerCase()) {
      fail(res, 404, 'Not Found');
      return undefined;
    }
    return held;
  }

  // The installation of the App on a repository's account, found with the App's JWT.
  router.get('/repos/:owner/:repo/installation', async (req, res) => {
    if (!(await appJwt(req, res))) return;
    if (
      req.params.owner.toLowerCase() !==
      github.installationAccount.toLowerCase()
    ) {
      fail(res, 404, 'Not Found');
      return;
    }
    res.json({
      id: github.installationId,
      account: { login: github.installationAccount },
      app_id: github.appId,
    });
  });

  // How far one commit is ahead of another: needs contents read on the installation token.
  router.get('/repos/:owner/:repo/compare/:basehead', (req, res) => {
    const held = installationToken(req, res, req.params.owner);
    if (!held) return;
    if (!held.permissions.contents) {
      fail(res, 403, 'Resource not accessible by integration');
      return;
    }
    const [base, head, extra] = req.params.basehead.split('...');
    const compared =
      base && head && extra === undefined
        ? github.compare(`${req.params.owner}/${req.params.repo}`, base, head)
        : undefined;
    if (!compared) {
      fail(res, 404, 'Not Found');
      return;
    }
    res.json(compared);
  });

  router.get('/repos/:owner/:repo/actions/runs/:runId', (req, res) => {
    if (!installationToken(req, res, req.params.owner)) return;
    const run = github.runs.get(Number(req.params.runId));
    if (!run || run.repository !== `${req.params.owner}/${req.params.repo}`) {
      fail(res, 404, 'Not Found');
      return;
    }
    res.json({
      id: run.id,
      name: run.workflow,
      status: run.status,
      conclusion: run.conclusion,
      head_sha: run.sha,
      event: run.event,
    });
  });

  router.post(
    '/repos/:owner/:repo/actions/runs/:runId/deployment_protection_rule',
    (req, res) => {
      const held = installationToken(req, res, req.params.owner);
      if (!held) return;
      if (held.permissions.deployments !== 'write') {
        fail(res, 403, 'Resource not accessible by integration');
        return;
      }
      const run = github.runs.get(Number(req.params.runId));
      if (!run || run.repository !== `${req.params.owner}/${req.params.repo}`) {
        fail(res, 404, 'Not Found');
        return;
      }
      const body = reviewSchema.safeParse(req.body ?? {});
      if (!body.success) {
        fail(res, 422, `Invalid request: ${describeIssues(body.error)}`);
        return;
      }
      const { environment_name, state, comment = '' } = body.data;
      const answer = (status: number) =>
        github.reviewLog.push({
          runId: run.id,
          environment: environment_name,
          state: state ?? null,
          status,
        });
      if (state && github.reviewFailures > 0) {
        github.reviewFailures -= 1;
        answer(503);
        fail(res, 503, 'Service Unavailable (a sandbox fault)');
        return;
      }
      if (state && comment && github.commentRefusals > 0) {
        github.commentRefusals -= 1;
        answer(422);
        fail(res, 422, 'Validation Failed: comment (a sandbox fault)');
        return;
      }
      const job = run.jobs.find(
        j => j.environment === environment_name && j.status === 'waiting',
      );
      if (!job) {
        answer(422);
        fail(
          res,
          422,
          `No pending deployment protection rule for environment "${environment_name}" in run ${run.id}`,
        );
        return;
      }
      if (!state) {
        if (job.statusReports.length >= STATUS_REPORT_LIMIT) {
          answer(422);
          fail(
            res,
            422,
            `At most ${STATUS_REPORT_LIMIT} status reports may be posted per deployment`,
          );
          return;
        }
        job.statusReports.push({ comment, at: new Date().toISOString() });
      } else {
        github.review(run, job, state, comment);
      }
      answer(204);
      res.status(204).end();
    },
  );

  return router;
}
