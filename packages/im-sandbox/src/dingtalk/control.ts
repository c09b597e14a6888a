import type { Router } from 'express';
import { z } from 'zod';
import {
  ControlError,
  controlRouter,
  decisionFields,
  input,
  operationsRoutes,
} from '../control';
import type { DingtalkPlatform } from './platform';
import {
  dingtalkAppSeedSchema,
  dingtalkFormSeedSchema,
  dingtalkUserSeedSchema,
} from './seed';
import { DINGTALK_FAULT_ROUTES, type DingtalkApp } from './state';
import { dingtalkAppView, dingtalkInstanceView } from './views';

// The control API under /_sandbox/dingtalk: the corp's admin and approvers, and misbehaviour on purpose.

const appPatchSchema = z.strictObject({
  callbackUrl: z
    .url({ protocol: /^https?$/ })
    .nullable()
    .optional(),
  callbacks: z.enum(['on', 'off']).optional(),
  mode: z.enum(['callback', 'stream']).optional(),
  /** Saving a callback URL makes DingTalk check it (check_url); false skips that, for a receiver not up yet. */
  check: z.boolean().default(true),
});

const dingtalkDecisionSchema = z.strictObject({
  userId: z.string().min(1).optional(),
  ...decisionFields,
});

export function dingtalkControlApi(platform: DingtalkPlatform): Router {
  const { state } = platform;
  const appOf = (appKey: string): DingtalkApp => {
    const app = state.apps.get(appKey);
    if (!app) throw new ControlError(404, `app ${appKey} not found`);
    return app;
  };
  /** Saves a callback URL as the console does: only once check_url got the right reply. */
  const saveCallbackUrl = async (app: DingtalkApp, url: string) => {
    const refusal = await platform.events.checkUrl(app, url);
    if (refusal !== undefined)
      throw new ControlError(422, `check_url to ${url} failed: ${refusal}`);
    app.callbackUrl = url;
  };

  return controlRouter(router => {
    router.get('/apps', (_req, res) => {
      res.json([...state.apps.values()].map(dingtalkAppView));
    });
    router.post('/apps', (req, res) => {
      res.json(
        dingtalkAppView(
          state.upsertApp(input(dingtalkAppSeedSchema, req.body)),
        ),
      );
    });
    router.patch('/apps/:appKey', async (req, res, next) => {
      try {
        const app = appOf(req.params.appKey);
        const { check, ...patch } = input(appPatchSchema, req.body);
        if (patch.callbackUrl === null) app.callbackUrl = undefined;
        else if (patch.callbackUrl !== undefined && check)
          await saveCallbackUrl(app, patch.callbackUrl);
        else if (patch.callbackUrl !== undefined)
          app.callbackUrl = patch.callbackUrl;
        if (patch.callbacks !== undefined) app.callbacks = patch.callbacks;
        if (patch.mode !== undefined) app.mode = patch.mode;
        res.json(dingtalkAppView(app));
      } catch (error) {
        next(error);
      }
    });
    router.post('/apps/:appKey/check-url', async (req, res, next) => {
      try {
        const app = appOf(req.params.appKey);
        if (app.callbackUrl === undefined)
          throw new ControlError(409, `app ${app.appKey} has no callback URL`);
        const refusal = await platform.events.checkUrl(app, app.callbackUrl);
        if (refusal !== undefined)
          throw new ControlError(
            502,
            `check_url to ${app.callbackUrl} failed: ${refusal}`,
          );
        res.json({ ok: true });
      } catch (error) {
        next(error);
      }
    });
    router.post('/users', (req, res) => {
      res.json(state.upsertUser(input(dingtalkUserSeedSchema, req.body)));
    });
    router.post('/forms', (req, res) => {
      res.json(state.upsertForm(input(dingtalkFormSeedSchema, req.body)));
    });

    router.get('/instances', (_req, res) => {
      res.json(
        [...state.instances.values()].map(instance =>
          dingtalkInstanceView(state, instance),
        ),
      );
    });
    router.get('/instances/:id', (req, res) => {
      const instance = state.instances.get(req.params.id);
      if (!instance)
        throw new ControlError(404, `instance ${req.params.id} not found`);
      res.json(dingtalkInstanceView(state, instance));
    });
    for (const decision of ['approve', 'reject'] as const) {
      router.post(`/instances/:id/${decision}`, (req, res) => {
        const { delivery, ...who } = input(dingtalkDecisionSchema, req.body);
        res.json(
          dingtalkInstanceView(
            state,
            platform.decide(req.params.id, { decision, ...who }, delivery),
          ),
        );
      });
    }

    // The new API's flow control, per app and API in calls a second (20 unless set); null turns it off.
    router.post('/rate-limit', (req, res) => {
      state.setQpsPerApi(
        input(
          z.strictObject({ qpsPerApi: z.number().int().min(1).nullable() }),
          req.body,
        ).qpsPerApi ?? undefined,
      );
      res.json({ qpsPerApi: state.qpsPerApi ?? null });
    });

    operationsRoutes(router, {
      routes: DINGTALK_FAULT_ROUTES,
      faults: state.faults,
      defaultHttpStatus: 400,
      expireTokens: () => state.tokens.expireAll(),
      stats: () => state.stats,
      deliveries: () => platform.log.all(),
      longConnections: { connections: platform.connections, path: 'stream' },
    });
  });
}
