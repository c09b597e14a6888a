import type { Router } from 'express';
import { z } from 'zod';
import {
  ControlError,
  controlRouter,
  decisionFields,
  input,
  operationsRoutes,
} from '../control';
import { cardClickSchema, cardSeenBy, clickCard } from './cards';
import type { DingtalkPlatform } from './platform';
import {
  DINGTALK_COMPONENT_TYPES,
  dingtalkAppSeedSchema,
  dingtalkCardTemplateSeedSchema,
  dingtalkChatSeedSchema,
  dingtalkFormSeedSchema,
  dingtalkUserSeedSchema,
} from './seed';
import {
  DINGTALK_FAULT_ROUTES,
  DINGTALK_PERMISSIONS,
  type DingtalkApp,
  type DingtalkForm,
} from './state';
import {
  dingtalkAppView,
  dingtalkFormView,
  dingtalkInstanceView,
  dingtalkNoticeView,
} from './views';
import { appendRequestSchema, redirectRequestSchema } from './workflow';

// The control API under /_sandbox/dingtalk: the corp's admin and approvers, and misbehaviour on purpose.

const appPatchSchema = z.strictObject({
  callbackUrl: z
    .url({ protocol: /^https?$/ })
    .nullable()
    .optional(),
  callbacks: z.enum(['on', 'off']).optional(),
  mode: z.enum(['callback', 'stream']).optional(),
  /** The permissions taken away from the app in the developer console (replaces the list; [] grants all again). */
  revokedPermissions: z.array(z.enum(DINGTALK_PERMISSIONS)).optional(),
  /** Saving a callback URL makes DingTalk check it (check_url); false skips that, for a receiver not up yet. */
  check: z.boolean().default(true),
});

/** What an administrator changes in a form in the OA approval console. */
const formEditSchema = z.strictObject({
  name: z.string().min(1).optional(),
  /** Old label to new label. */
  rename: z.record(z.string(), z.string().min(1)).optional(),
  /** Labels of the components to remove. */
  remove: z.array(z.string()).optional(),
  add: z
    .array(
      z.strictObject({
        componentType: z.enum(DINGTALK_COMPONENT_TYPES),
        label: z.string().min(1),
        required: z.boolean().default(false),
      }),
    )
    .optional(),
});

/** Applies a console edit; refuses labels the form does not have, or an edit that repeats a label. */
function editForm(form: DingtalkForm, edit: z.infer<typeof formEditSchema>) {
  const missing = [
    ...Object.keys(edit.rename ?? {}),
    ...(edit.remove ?? []),
  ].find(label => !form.components.some(c => c.label === label));
  if (missing !== undefined)
    throw new ControlError(
      404,
      `form ${form.processCode} has no component labelled "${missing}"`,
    );
  const components = [
    ...form.components
      .filter(component => !edit.remove?.includes(component.label))
      .map(component => ({
        ...component,
        label: edit.rename?.[component.label] ?? component.label,
      })),
    ...(edit.add ?? []).map((component, index) => ({
      ...component,
      id: `${component.componentType}_console${form.components.length + index}`,
    })),
  ];
  if (new Set(components.map(c => c.label)).size !== components.length)
    throw new ControlError(422, 'the edit would give two components one label');
  form.components = components;
  if (edit.name !== undefined) form.name = edit.name;
}

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
        if (patch.revokedPermissions !== undefined)
          app.revokedPermissions = patch.revokedPermissions;
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
    const formOf = (processCode: string) => {
      const form = state.forms.get(processCode);
      if (!form) throw new ControlError(404, `form ${processCode} not found`);
      return form;
    };
    router.get('/forms', (_req, res) => {
      res.json([...state.forms.values()].map(dingtalkFormView));
    });
    router.get('/forms/:processCode', (req, res) => {
      res.json(dingtalkFormView(formOf(req.params.processCode)));
    });
    // An administrator editing the form in the console, as drift happens.
    router.patch('/forms/:processCode', (req, res) => {
      const form = formOf(req.params.processCode);
      editForm(form, input(formEditSchema, req.body));
      res.json(dingtalkFormView(form));
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

    // An approver handing their pending task to someone else in the DingTalk app (转交).
    // An approver adding people to their step in the DingTalk app (加签).
    router.post('/instances/:id/append', (req, res) => {
      res.json(
        dingtalkInstanceView(
          state,
          platform.append(req.params.id, input(appendRequestSchema, req.body)),
        ),
      );
    });
    router.post('/instances/:id/redirect', (req, res) => {
      res.json(
        dingtalkInstanceView(
          state,
          platform.redirect(
            req.params.id,
            input(redirectRequestSchema, req.body),
          ),
        ),
      );
    });

    router.post('/chats', (req, res) => {
      res.json(state.upsertChat(input(dingtalkChatSeedSchema, req.body)));
    });
    // A template published in the card platform's designer.
    router.post('/card-templates', (req, res) => {
      res.json(
        state.upsertCardTemplate(
          input(dingtalkCardTemplateSeedSchema, req.body),
        ),
      );
    });
    // A group's cards as everyone sees them (?user=<userId>: as that member sees them).
    router.get('/chats/:chatId/cards', (req, res) => {
      if (!state.chats.has(req.params.chatId))
        throw new ControlError(404, `group ${req.params.chatId} not found`);
      const user = input(
        z.strictObject({ user: z.string().min(1).optional() }),
        req.query,
      ).user;
      res.json(
        [...state.cards.values()]
          .filter(card => card.chatId === req.params.chatId)
          .map(card => {
            const seen = cardSeenBy(state, card, user);
            return {
              outTrackId: card.outTrackId,
              templateId: card.templateId,
              text: seen.lines.join('\n'),
              buttons: seen.buttons.map(button => button.text),
              ...(seen.input && { input: seen.input }),
              data: card.data,
            };
          }),
      );
    });
    // A member clicking a card's button (with what they typed in its input).
    router.post(
      '/chats/:chatId/cards/:outTrackId/click',
      async (req, res, next) => {
        try {
          res.json(
            await clickCard(
              state,
              platform.stream,
              req.params.chatId,
              req.params.outTrackId,
              input(cardClickSchema, req.body),
            ),
          );
        } catch (error) {
          next(error);
        }
      },
    );

    // The work notices a person received (?user=<userId>), or everyone's.
    router.get('/messages', (req, res) => {
      const user = input(
        z.strictObject({ user: z.string().min(1).optional() }),
        req.query,
      ).user;
      const notices =
        user === undefined
          ? [...state.notices.values()].flat()
          : (state.notices.get(user) ?? []);
      res.json(notices.map(notice => dingtalkNoticeView(state, notice)));
    });

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
