import {
  gateRequestSchema,
  githubAppRequestSchema,
  imApprovalIntegrationManagePermission,
  imApprovalTemplateManagePermission,
  templateNameSchema,
} from '@im-approval/plugin-im-approval-common';
import express from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import type { CallerResolver } from '../auth/CallerResolver';
import type { DeploymentGates } from '../github/DeploymentGates';
import type { GithubWebhook } from '../github/GithubWebhook';
import type { GithubSettings } from '../settings/GithubSettings';
import type { Audited } from './audited';
import { parseInput } from './parseInput';

/** What the GitHub App needs, as its settings page names it. */
export const GITHUB_APP_PERMISSIONS = [
  { name: 'Deployments', access: 'Read and write' },
  { name: 'Actions', access: 'Read-only' },
  // For the number of commits approvers see; without it they see the compare link alone.
  { name: 'Contents', access: 'Read-only' },
];
export const GITHUB_APP_EVENTS = [
  'Deployment protection rule',
  'Workflow run',
  'Workflow job',
];

export interface GithubRoutesOptions {
  webhook: GithubWebhook;
  gates: DeploymentGates;
  settings: GithubSettings;
  webhookUrl: () => Promise<string>;
  callers: CallerResolver;
  audited: Audited;
}

const gatePathSchema = z.object({ name: templateNameSchema });

/** GitHub's webhook, authenticated by its signature over the raw body: mounted before any body parser. */
export function githubWebhookRoute({
  webhook,
}: Pick<GithubRoutesOptions, 'webhook'>): express.Router {
  const router = Router();
  router.post(
    '/github/webhook',
    express.raw({ type: () => true, limit: '5mb' }),
    async (req, res) => {
      const reply = await webhook.handle({
        headers: req.headers,
        rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      });
      res.status(reply.status).json(reply.body);
    },
  );
  return router;
}

/** The console's GitHub: where to point the App, the App itself, the gates, and what GitHub sent. */
export function githubSettingsRoutes({
  webhook,
  gates,
  settings,
  webhookUrl,
  callers,
  audited,
}: GithubRoutesOptions): express.Router {
  const router = Router();
  const manageApp = [imApprovalIntegrationManagePermission];
  // Gates say who approves which deployments, as templates do; the App is an integration.
  const manageGates = [imApprovalTemplateManagePermission];
  const readSetup = [
    imApprovalIntegrationManagePermission,
    imApprovalTemplateManagePermission,
  ];

  router.get('/github/setup', async (req, res) => {
    await callers.authorizeAny(await callers.resolve(req), readSetup);
    res.json(
      await gates.setup(
        {
          webhookUrl: await webhookUrl(),
          permissions: GITHUB_APP_PERMISSIONS,
          events: GITHUB_APP_EVENTS,
        },
        webhook.refused(),
      ),
    );
  });

  router.put('/github/app', async (req, res) => {
    const caller = await callers.resolve(req);
    await callers.authorizeAny(caller, manageApp);
    const body = parseInput(githubAppRequestSchema, req.body, 'body');
    res.json(
      await audited(
        caller,
        req,
        {
          eventId: 'github-app-save',
          severityLevel: 'medium',
          meta: { appId: body.appId },
        },
        () => settings.saveApp(body, caller.id),
      ),
    );
  });

  router.delete('/github/app', async (req, res) => {
    const caller = await callers.resolve(req);
    await callers.authorizeAny(caller, manageApp);
    await audited(
      caller,
      req,
      { eventId: 'github-app-delete', severityLevel: 'medium', meta: {} },
      () => settings.deleteApp(),
    );
    res.status(204).end();
  });

  router.post('/gates', async (req, res) => {
    const caller = await callers.resolve(req);
    await callers.authorizeAny(caller, manageGates);
    const body = parseInput(gateRequestSchema, req.body, 'body');
    const view = await audited(
      caller,
      req,
      { eventId: 'gate-create', meta: { gate: body.name } },
      () => settings.createGate(body, caller.id),
    );
    res.status(201).json(view);
  });

  router.put('/gates/:name', async (req, res) => {
    const caller = await callers.resolve(req);
    await callers.authorizeAny(caller, manageGates);
    const { name } = parseInput(gatePathSchema, req.params, 'path');
    const body = parseInput(gateRequestSchema, req.body, 'body');
    res.json(
      await audited(
        caller,
        req,
        { eventId: 'gate-update', meta: { gate: name } },
        () => settings.updateGate(name, body, caller.id),
      ),
    );
  });

  router.delete('/gates/:name', async (req, res) => {
    const caller = await callers.resolve(req);
    await callers.authorizeAny(caller, manageGates);
    const { name } = parseInput(gatePathSchema, req.params, 'path');
    await audited(
      caller,
      req,
      { eventId: 'gate-delete', meta: { gate: name } },
      () => settings.deleteGate(name),
    );
    res.status(204).end();
  });

  return router;
}
