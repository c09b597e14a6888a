import {
  imApprovalIntegrationManagePermission,
  type GithubSetup,
} from '@im-approval/plugin-im-approval-common';
import express from 'express';
import Router from 'express-promise-router';
import type { CallerResolver } from '../auth/CallerResolver';
import type { DeploymentGates } from '../github/DeploymentGates';
import type { GithubWebhook } from '../github/GithubWebhook';

/** What the GitHub App needs, as its settings page names it. */
export const GITHUB_APP_PERMISSIONS = [
  { name: 'Deployments', access: 'Read and write' },
  { name: 'Actions', access: 'Read-only' },
];
export const GITHUB_APP_EVENTS = [
  'Deployment protection rule',
  'Workflow run',
  'Workflow job',
];

export interface GithubRoutesOptions {
  /** Absent when `imApproval.github.app` is not configured. */
  gates?: { webhook: GithubWebhook; gates: DeploymentGates };
  setup: Omit<GithubSetup, 'gates' | 'deliveries' | 'webhookUrl'>;
  webhookUrl: () => Promise<string>;
  callers: CallerResolver;
}

/** GitHub's webhook, authenticated by its signature over the raw body: mounted before any body parser. */
export function githubWebhookRoute({
  gates,
}: Pick<GithubRoutesOptions, 'gates'>): express.Router {
  const router = Router();
  router.post(
    '/github/webhook',
    express.raw({ type: () => true, limit: '5mb' }),
    async (req, res) => {
      if (!gates) {
        res.status(404).json({
          error: {
            name: 'NotFoundError',
            message:
              'Deployment gates are off: configure imApproval.github.app (app id, private key, webhook secret)',
          },
        });
        return;
      }
      const reply = await gates.webhook.handle({
        headers: req.headers,
        rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      });
      res.status(reply.status).json(reply.body);
    },
  );
  return router;
}

/** The console's view of the GitHub App: where to point it and what it received. */
export function githubSetupRoute({
  gates,
  setup,
  webhookUrl,
  callers,
}: GithubRoutesOptions): express.Router {
  const router = Router();
  router.get('/github/setup', async (req, res) => {
    await callers.authorizeAny(await callers.resolve(req), [
      imApprovalIntegrationManagePermission,
    ]);
    const base = { ...setup, webhookUrl: await webhookUrl() };
    res.json(
      gates
        ? await gates.gates.setup(base, gates.webhook.refused())
        : { ...base, gates: [], deliveries: [] },
    );
  });
  return router;
}
