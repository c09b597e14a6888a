import type { Router } from 'express';
import { z } from 'zod';
import {
  ControlError,
  controlRouter,
  decisionFields,
  input,
  operationsRoutes,
} from '../control';
import { deliveryControlSchema } from '../delivery/log';
import type { WecomPlatform } from './platform';
import {
  rateLimitSchema,
  wecomAppSeedSchema,
  wecomTemplateSeedSchema,
  wecomChatSeedSchema,
  wecomUserSeedSchema,
} from './seed';
import { WECOM_FAULT_ROUTES, type WecomApp } from './state';
import { wecomAppView, wecomInstanceView } from './views';
import { transferRequestSchema } from './workflow';

// The control API under /_sandbox/wecom: the corp's admin, its approvers and applicants, and
// misbehaviour on purpose.

const appPatchSchema = z.strictObject({
  callbackUrl: z
    .url({ protocol: /^https?$/ })
    .nullable()
    .optional(),
  callbacks: z.enum(['on', 'off']).optional(),
  /** Adds the app to (true) or removes it from (false) the Approval app's "apps that may call the API" list. */
  approvalApi: z.boolean().optional(),
  /** Saving a callback URL makes WeCom verify it (GET with echostr); false skips that, for a receiver not up yet. */
  check: z.boolean().default(true),
});

const decisionSchema = z.strictObject({
  userId: z.string().min(1).optional(),
  ...decisionFields,
});
const statusSchema = z.strictObject({
  spStatus: z.union([z.literal(4), z.literal(6), z.literal(7), z.literal(10)]),
  delivery: deliveryControlSchema.optional(),
});
const commentSchema = z.strictObject({
  userId: z.string().min(1),
  content: z.string().min(1),
  delivery: deliveryControlSchema.optional(),
});
/** An administrator editing a template in the admin console: renaming it or its controls, removing or adding controls. */
const templateEditSchema = z.strictObject({
  name: z.string().min(1).optional(),
  /** Control id → its new title. */
  rename: z.record(z.string(), z.string().min(1)).optional(),
  remove: z.array(z.string().min(1)).optional(),
  add: wecomTemplateSeedSchema.shape.controls.element.array().optional(),
});
const rateLimitBodySchema = z.strictObject({ perMinute: rateLimitSchema });

export function wecomControlApi(platform: WecomPlatform): Router {
  const { state } = platform;
  const appOf = (agentId: string): WecomApp => {
    const app = state.apps.get(Number(agentId));
    if (!app) throw new ControlError(404, `app ${agentId} not found`);
    return app;
  };
  const templateOf = (templateId: string) => {
    const template = state.templates.get(templateId);
    if (!template)
      throw new ControlError(404, `template ${templateId} not found`);
    return template;
  };
  const instanceOf = (spNo: string) => {
    const instance = state.instances.get(spNo);
    if (!instance) throw new ControlError(404, `request ${spNo} not found`);
    return instance;
  };
  /** Why the URL check failed, as a refusal with `status`; nothing when it passed. */
  const verify = async (app: WecomApp, url: string, status: number) => {
    const refusal = await platform.events.verifyUrl(app, url);
    if (refusal !== undefined)
      throw new ControlError(
        status,
        `the URL check of ${url} failed: ${refusal}`,
      );
  };

  return controlRouter(router => {
    router.get('/apps', (_req, res) => {
      res.json([...state.apps.values()].map(wecomAppView));
    });
    router.post('/apps', (req, res) => {
      res.json(
        wecomAppView(state.upsertApp(input(wecomAppSeedSchema, req.body))),
      );
    });
    router.patch('/apps/:agentId', async (req, res, next) => {
      try {
        const app = appOf(req.params.agentId);
        const { check, ...patch } = input(appPatchSchema, req.body);
        // Saved as the admin console does: only once the URL answered the echostr check.
        if (typeof patch.callbackUrl === 'string' && check)
          await verify(app, patch.callbackUrl, 422);
        if (patch.callbackUrl !== undefined)
          app.callbackUrl = patch.callbackUrl ?? undefined;
        if (patch.callbacks !== undefined) app.callbacks = patch.callbacks;
        if (patch.approvalApi !== undefined)
          app.approvalApi = patch.approvalApi;
        res.json(wecomAppView(app));
      } catch (error) {
        next(error);
      }
    });
    router.post('/apps/:agentId/verify-url', async (req, res, next) => {
      try {
        const app = appOf(req.params.agentId);
        if (app.callbackUrl === undefined)
          throw new ControlError(409, `app ${app.agentId} has no callback URL`);
        await verify(app, app.callbackUrl, 502);
        res.json({ ok: true });
      } catch (error) {
        next(error);
      }
    });
    router.post('/users', (req, res) => {
      res.json(state.upsertUser(input(wecomUserSeedSchema, req.body)));
    });
    router.post('/chats', (req, res) => {
      res.json(state.upsertChat(input(wecomChatSeedSchema, req.body)));
    });
    // A group chat's messages as its members read them, oldest first.
    router.get('/chats/:chatId/messages', (req, res) => {
      if (!state.chats.has(req.params.chatId))
        throw new ControlError(404, `chat ${req.params.chatId} not found`);
      res.json(
        (state.chatMessages.get(req.params.chatId) ?? []).map(message => ({
          msgId: message.msgId,
          msgType: message.msgType,
          text: message.content,
          at: new Date(message.at).toISOString(),
        })),
      );
    });
    router.post('/templates', (req, res) => {
      res.json(state.upsertTemplate(input(wecomTemplateSeedSchema, req.body)));
    });
    router.get('/templates', (_req, res) => {
      res.json([...state.templates.values()]);
    });
    router.get('/templates/:templateId', (req, res) => {
      res.json(templateOf(req.params.templateId));
    });
    router.patch('/templates/:templateId', (req, res) => {
      const template = templateOf(req.params.templateId);
      const edit = input(templateEditSchema, req.body);
      const unknown = [
        ...Object.keys(edit.rename ?? {}),
        ...(edit.remove ?? []),
      ].filter(id => !template.controls.some(control => control.id === id));
      if (unknown.length > 0)
        throw new ControlError(
          404,
          `template ${template.templateId} has no control ${unknown.join(', ')}`,
        );
      const controls = template.controls
        .filter(control => !edit.remove?.includes(control.id))
        .map(control => ({
          ...control,
          title: edit.rename?.[control.id] ?? control.title,
        }))
        .concat(
          (edit.add ?? []).map(control => ({
            ...control,
            required: control.required ?? false,
          })),
        );
      if (new Set(controls.map(control => control.id)).size < controls.length)
        throw new ControlError(422, 'control ids must stay unique');
      template.controls = controls;
      if (edit.name !== undefined) template.name = edit.name;
      res.json(template);
    });
    router.put('/rate-limit', (req, res) => {
      state.rateLimit.perMinute = input(
        rateLimitBodySchema,
        req.body,
      ).perMinute;
      res.json({ perMinute: state.rateLimit.perMinute });
    });

    // The app messages a member received (?user=<userid>), or everyone's.
    router.get('/messages', (req, res) => {
      const user = input(
        z.strictObject({ user: z.string().min(1).optional() }),
        req.query,
      ).user;
      const messages =
        user === undefined
          ? [...state.messages.values()].flat()
          : (state.messages.get(user) ?? []);
      res.json(
        messages.map(message => ({
          ...message,
          name: state.users.get(message.userId)?.name ?? message.userId,
          at: new Date(message.at).toISOString(),
        })),
      );
    });

    router.get('/instances', (_req, res) => {
      res.json(
        [...state.instances.values()].map(instance =>
          wecomInstanceView(state, instance),
        ),
      );
    });
    router.get('/instances/:spNo', (req, res) => {
      res.json(wecomInstanceView(state, instanceOf(req.params.spNo)));
    });
    for (const decision of ['approve', 'reject'] as const) {
      router.post(`/instances/:spNo/${decision}`, (req, res) => {
        const { delivery, ...who } = input(decisionSchema, req.body);
        res.json(
          wecomInstanceView(
            state,
            platform.decide(req.params.spNo, { decision, ...who }, delivery),
          ),
        );
      });
    }
    // An approver handing their pending task to someone else in the WeCom app (转审).
    router.post('/instances/:spNo/transfer', (req, res) => {
      res.json(
        wecomInstanceView(
          state,
          platform.transfer(
            req.params.spNo,
            input(transferRequestSchema, req.body),
          ),
        ),
      );
    });
    router.post('/instances/:spNo/status', (req, res) => {
      const { spStatus, delivery } = input(statusSchema, req.body);
      res.json(
        wecomInstanceView(
          state,
          platform.changeStatus(req.params.spNo, spStatus, delivery),
        ),
      );
    });
    router.post('/instances/:spNo/comments', (req, res) => {
      const { userId, content, delivery } = input(commentSchema, req.body);
      res.json(
        wecomInstanceView(
          state,
          platform.comment(req.params.spNo, userId, content, delivery),
        ),
      );
    });

    // getapprovaldetail's shape: the current one (process_list) unless a test asks for the legacy sp_record.
    router.post('/detail-shape', (req, res) => {
      state.detailShape = input(
        z.strictObject({ shape: z.enum(['current', 'legacy']) }),
        req.body,
      ).shape;
      res.json({ shape: state.detailShape });
    });

    operationsRoutes(router, {
      routes: WECOM_FAULT_ROUTES,
      faults: state.faults,
      defaultHttpStatus: 200,
      knownMessages: {
        45009: 'api freq out of limit',
        301055: 'no approval auth',
        60020: 'not allow to access from your ip',
      },
      expireTokens: () => state.tokens.expireAll(),
      stats: () => ({
        ...state.stats,
        rateLimitPerMinute: state.rateLimit.perMinute,
      }),
      deliveries: () => platform.log.all(),
    });
  });
}
