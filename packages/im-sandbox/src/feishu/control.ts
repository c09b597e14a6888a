import type { Router } from 'express';
import { z } from 'zod';
import {
  ControlError,
  controlRouter,
  decisionFields,
  input,
  operationsRoutes,
} from '../control';
import { DecisionError } from '../flow/approvalFlow';
import { cardClickSchema, clickCard } from './chats';
import type { FeishuPlatform } from './platform';
import {
  feishuAppSeedSchema,
  feishuApprovalSeedSchema,
  feishuChatSeedSchema,
  feishuUserSeedSchema,
} from './seed';
import { FAULT_ROUTES } from './state';

const limit = z.number().int().min(1).max(1_000_000);
/** PATCH /rate-limits: change Feishu's frequency limits (per app), e.g. to meet them in a short test. */
const rateLimitsSchema = z.strictObject({
  instanceCreatePerMinute: limit.optional(),
  instanceCcPerMinute: limit.optional(),
  instanceGetPerMinute: limit.optional(),
  instanceGetPerSecond: limit.optional(),
  subscribePerMinute: limit.optional(),
});

import { appView, instanceView } from './views';
import { addApproversRequestSchema, transferRequestSchema } from './workflow';

// The control API under /_sandbox/feishu: what tests and people use to play the tenant's
// admin and approvers, and to make the platform misbehave on purpose.

const appPatchSchema = z.strictObject({
  callbackUrl: z
    .url({ protocol: /^https?$/ })
    .nullable()
    .optional(),
  cardCallbackUrl: z
    .url({ protocol: /^https?$/ })
    .nullable()
    .optional(),
  callbacks: z.enum(['on', 'off']).optional(),
  mode: z.enum(['callback', 'long-connection']).optional(),
  /** false takes the approval-definition write scopes away (as an admin would, then publishing a version). */
  definitionWrite: z.boolean().optional(),
});

/**
 * PATCH /approvals/:code: what an admin changes in the approval console. Widgets by id and nodes
 * by node_id or custom_node_id; null removes one.
 */
const approvalEditSchema = z.strictObject({
  name: z.string().min(1).optional(),
  widgets: z
    .record(
      z.string(),
      z
        .strictObject({
          name: z.string().min(1).optional(),
          required: z.boolean().optional(),
        })
        .nullable(),
    )
    .optional(),
  addWidgets: z
    .array(
      z.strictObject({
        id: z.string().min(1),
        name: z.string().min(1),
        type: z.string().min(1),
        required: z.boolean().optional(),
      }),
    )
    .optional(),
  nodes: z
    .record(
      z.string(),
      z
        .strictObject({
          name: z.string().min(1).optional(),
          type: z.enum(['AND', 'OR']).optional(),
        })
        .nullable(),
    )
    .optional(),
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
  const approvalOf = (code: string) => {
    const approval = state.approvals.get(code);
    if (!approval) throw new ControlError(404, `approval ${code} not found`);
    return approval;
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
      if (patch.cardCallbackUrl !== undefined)
        app.cardCallbackUrl = patch.cardCallbackUrl ?? undefined;
      if (patch.callbacks !== undefined) app.callbacks = patch.callbacks;
      if (patch.mode !== undefined) app.mode = patch.mode;
      if (patch.definitionWrite !== undefined)
        app.definitionWrite = patch.definitionWrite;
      res.json(appView(app));
    });
    router.post('/users', (req, res) => {
      res.json(state.upsertUser(input(feishuUserSeedSchema, req.body)));
    });
    router.post('/approvals', (req, res) => {
      res.json(state.upsertApproval(input(feishuApprovalSeedSchema, req.body)));
    });
    router.get('/approvals/:code', (req, res) => {
      res.json(approvalOf(req.params.code));
    });
    router.patch('/approvals/:code', (req, res) => {
      const approval = approvalOf(req.params.code);
      const edit = input(approvalEditSchema, req.body);
      const widgetOf = (id: string) => {
        const widget = approval.form.find(candidate => candidate.id === id);
        if (!widget)
          throw new ControlError(
            404,
            `approval ${approval.approvalCode} has no widget ${id}`,
          );
        return widget;
      };
      const nodeOf = (key: string) => {
        const node = approval.nodes.find(
          candidate =>
            candidate.nodeId === key || candidate.customNodeId === key,
        );
        if (!node)
          throw new ControlError(
            404,
            `approval ${approval.approvalCode} has no node ${key}`,
          );
        return node;
      };
      // Every key is checked before anything changes, so a refused edit changes nothing.
      const widgets = Object.entries(edit.widgets ?? {}).map(
        ([id, change]) => [widgetOf(id), change] as const,
      );
      const nodes = Object.entries(edit.nodes ?? {}).map(
        ([key, change]) => [nodeOf(key), change] as const,
      );
      const edited = {
        ...approval,
        name: edit.name ?? approval.name,
        form: [
          ...approval.form.flatMap(widget => {
            const change = widgets.find(([target]) => target === widget)?.[1];
            if (change === null) return [];
            return [{ ...widget, ...change }];
          }),
          ...(edit.addWidgets ?? []).map(widget => ({
            ...widget,
            required: widget.required ?? false,
          })),
        ],
        nodes: approval.nodes.flatMap(node => {
          const change = nodes.find(([target]) => target === node)?.[1];
          if (change === null) return [];
          return [{ ...node, ...change }];
        }),
      };
      res.json(state.upsertApproval(input(feishuApprovalSeedSchema, edited)));
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

    // An approver handing their pending task to someone else in the Feishu app (转交).
    router.post('/instances/:code/transfer', (req, res) => {
      const request = input(transferRequestSchema, req.body);
      res.json(
        instanceView(state, platform.transfer(req.params.code, request)),
      );
    });
    // An approver asking more people to decide their node with them (并加签).
    router.post('/instances/:code/add-approvers', (req, res) => {
      const request = input(addApproversRequestSchema, req.body);
      res.json(
        instanceView(state, platform.addApprovers(req.params.code, request)),
      );
    });

    // The messages a person received from apps' bots (?user=<open_id or email>), or everyone's.
    router.get('/messages', (req, res) => {
      const user = input(
        z.strictObject({ user: z.string().min(1).optional() }),
        req.query,
      ).user;
      const openId =
        user === undefined
          ? undefined
          : ([...state.users.values()].find(
              candidate =>
                candidate.openId === user ||
                candidate.email?.toLowerCase() === user.toLowerCase(),
            )?.openId ?? user);
      const messages =
        openId === undefined
          ? [...state.messages.values()].flat()
          : (state.messages.get(openId) ?? []);
      res.json(
        messages.map(message => ({
          messageId: message.messageId,
          appId: message.appId,
          openId: message.openId,
          name: state.users.get(message.openId ?? '')?.name ?? message.openId,
          msgType: message.msgType,
          text: message.text,
          links: message.links,
          at: new Date(message.at).toISOString(),
        })),
      );
    });

    router.post('/chats', (req, res) => {
      const chat = input(feishuChatSeedSchema, req.body);
      state.chats.set(chat.chatId, chat);
      res.json(chat);
    });
    // A group chat's messages as its members see them now (cards as last updated).
    router.get('/chats/:chatId/messages', (req, res) => {
      if (!state.chats.has(req.params.chatId))
        throw new DecisionError(404, `chat ${req.params.chatId} not found`);
      res.json(
        (state.chatMessages.get(req.params.chatId) ?? []).map(message => ({
          messageId: message.messageId,
          appId: message.appId,
          msgType: message.msgType,
          text: message.text,
          links: message.links,
          content: message.content,
          at: new Date(message.at).toISOString(),
        })),
      );
    });
    // A member clicks a card's button: the app's card request URL hears of it, and its answer
    // (a toast for the clicker, a card for everyone) is applied.
    router.post(
      '/chats/:chatId/messages/:messageId/click',
      async (req, res, next) => {
        try {
          res.json(
            await clickCard(
              state,
              req.params.chatId,
              req.params.messageId,
              input(cardClickSchema, req.body),
            ),
          );
        } catch (error) {
          next(error);
        }
      },
    );

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
