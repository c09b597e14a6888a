import type { Router } from 'express';
import { z } from 'zod';
import {
  ControlError,
  controlRouter,
  decisionFields,
  input,
  operationsRoutes,
} from '../control';
import type { FeishuPlatform } from './platform';
import {
  feishuAppSeedSchema,
  feishuApprovalSeedSchema,
  feishuUserSeedSchema,
} from './seed';
import { FAULT_ROUTES } from './state';

const limit = z.number().int().min(1).max(1_000_000);
/** PATCH /rate-limits: change Feishu's frequency limits (per app), e.g. to meet them in a short test. */
const rateLimitsSchema = z.strictObject({
  instanceCreatePerMinute: limit.optional(),
  instanceGetPerMinute: limit.optional(),
  instanceGetPerSecond: limit.optional(),
  subscribePerMinute: limit.optional(),
});

import { appView, instanceView } from './views';

// The control API under /_sandbox/feishu: what tests and people use to play the tenant's
// admin and approvers, and to make the platform misbehave on purpose.

const appPatchSchema = z.strictObject({
  callbackUrl: z
    .url({ protocol: /^https?$/ })
    .nullable()
    .optional(),
  callbacks: z.enum(['on', 'off']).optional(),
  mode: z.enum(['callback', 'long-connection']).optional(),
});

// Messages Feishu itself uses for codes a test is likely to inject.
const KNOWN_FAULT_MESSAGES: Record<number, string> = {
  99991400: 'request trigger frequency limit',
  99991663:
    'Invalid access token for authorization. Please make a request with token attached.',
  1395001: 'There have been some errors. Please try again later',
};

const feishuDecisionSchema = z.strictObject({
  openId: z.string().min(1).optional(),
  ...decisionFields,
});

/** Routes for /_sandbox/feishu. */
export function controlApi(platform: FeishuPlatform): Router {
  const { state } = platform;
  const appOf = (appId: string) => {
    const app = state.apps.get(appId);
    if (!app) throw new ControlError(404, `app ${appId} not found`);
    return app;
  };
  const instanceOf = (code: string) => {
    const instance = state.instances.get(code);
    if (!instance) throw new ControlError(404, `instance ${code} not found`);
    return instance;
  };

  return controlRouter(router => {
    router.get('/apps', (_req, res) => {
      res.json([...state.apps.values()].map(appView));
    });
    router.post('/apps', (req, res) => {
      res.json(appView(state.upsertApp(input(feishuAppSeedSchema, req.body))));
    });
    router.patch('/apps/:appId', (req, res) => {
      const app = appOf(req.params.appId);
      const patch = input(appPatchSchema, req.body);
      if (patch.callbackUrl !== undefined)
        app.callbackUrl = patch.callbackUrl ?? undefined;
      if (patch.callbacks !== undefined) app.callbacks = patch.callbacks;
      if (patch.mode !== undefined) app.mode = patch.mode;
      res.json(appView(app));
    });
    router.post('/users', (req, res) => {
      res.json(state.upsertUser(input(feishuUserSeedSchema, req.body)));
    });
    router.post('/approvals', (req, res) => {
      res.json(state.upsertApproval(input(feishuApprovalSeedSchema, req.body)));
    });

    router.get('/instances', (_req, res) => {
      res.json(
        [...state.instances.values()].map(instance =>
          instanceView(state, instance),
        ),
      );
    });
    router.get('/instances/:code', (req, res) => {
      res.json(instanceView(state, instanceOf(req.params.code)));
    });
    for (const decision of ['approve', 'reject'] as const) {
      router.post(`/instances/:code/${decision}`, (req, res) => {
        const { delivery, ...who } = input(feishuDecisionSchema, req.body);
        const instance = platform.decide(
          req.params.code,
          { decision, ...who },
          delivery,
        );
        res.json(instanceView(state, instance));
      });
    }

    router.get('/rate-limits', (_req, res) => {
      res.json(state.rateLimits.limits);
    });
    router.patch('/rate-limits', (req, res) => {
      const patch = Object.fromEntries(
        Object.entries(input(rateLimitsSchema, req.body)).filter(
          ([, value]) => value !== undefined,
        ),
      );
      state.rateLimits.limits = { ...state.rateLimits.limits, ...patch };
      res.json(state.rateLimits.limits);
    });

    operationsRoutes(router, {
      routes: FAULT_ROUTES,
      faults: state.faults,
      defaultHttpStatus: 400,
      knownMessages: KNOWN_FAULT_MESSAGES,
      expireTokens: () => state.expireTokens(),
      stats: () => ({ ...state.stats, rateLimited: state.rateLimits.refused }),
      deliveries: () => platform.events.deliveries(),
      longConnections: {
        connections: platform.connections,
        path: 'connections',
      },
    });
  });
}
