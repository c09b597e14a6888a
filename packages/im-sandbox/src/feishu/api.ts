import { randomBytes } from 'node:crypto';
import express, {
  type ErrorRequestHandler,
  type Request,
  type Response,
  Router,
} from 'express';
import { z } from 'zod';
import { DecisionError } from '../flow/approvalFlow';
import { answerAsFaulted } from '../platform/faults';
import { countTokenRequest } from '../platform/apiCounts';
import { parseOrRefuse } from '../validation';
import {
  createApprovalRequestSchema,
  DEFINITION_WRITE_SCOPES,
} from './definitions';
import {
  FeishuApiError,
  FeishuCode,
  approvalParamInvalid,
  scopeMissing,
} from './errors';
import {
  FeishuMessageCode,
  sendFeishuMessage,
  updateFeishuMessage,
  sendMessageBodySchema,
  sendMessageQuerySchema,
} from './messages';
import type { FeishuApp, FeishuUser, Instance, TimelineEntry } from './model';
import type { FeishuPlatform } from './platform';
import type { FaultRoute } from './state';
import {
  addSign,
  addSignRequestSchema,
  cancelInstanceRequestSchema,
  ccInstanceRequestSchema,
  createInstanceRequestSchema,
  taskDecider,
  taskDecisionRequestSchema,
} from './workflow';

// The Feishu open API under /open-apis: the paths, field names, envelopes and error codes
// of open.feishu.cn for the calls this project makes.

const tokenRequestSchema = z.object({
  app_id: z.string().min(1),
  app_secret: z.string().min(1),
});
const userIdTypeSchema = z.object({
  user_id_type: z.enum(['open_id', 'user_id']).default('open_id'),
});
const batchGetIdSchema = z.object({
  emails: z.array(z.string()).max(50).optional(),
  mobiles: z.array(z.string()).max(50).optional(),
  include_resigned: z.boolean().optional(),
});

// The contact API reports these flags for every user it returns; sandbox users are all active.
const ACTIVE_USER_STATUS = {
  is_frozen: false,
  is_resigned: false,
  is_activated: true,
  is_exited: false,
  is_unjoin: false,
};

const idOf = (user: FeishuUser, type: 'open_id' | 'user_id') =>
  type === 'open_id' ? user.openId : user.userId;

export function feishuOpenApi(platform: FeishuPlatform): Router {
  const { state } = platform;
  const router = Router();
  router.use(express.json());

  const authenticate = (req: Request): FeishuApp => {
    // Without the "Bearer " prefix Feishu treats the token as absent.
    const token = /^Bearer (\S+)$/.exec(req.get('authorization') ?? '')?.[1];
    if (token === undefined) {
      throw new FeishuApiError(
        FeishuCode.missingAccessToken,
        'Missing access token for authorization. Please make a request with token attached.',
      );
    }
    const app = state.appForToken(token, Date.now());
    if (!app) {
      throw new FeishuApiError(
        FeishuCode.invalidAccessToken,
        'Invalid access token for authorization. Please make a request with token attached.',
      );
    }
    return app;
  };

  /**
   * Runs one authenticated operation: counts it, applies injected faults, wraps the answer, and
   * loses or delays the answer of a call that took effect when a test asked for it.
   */
  const operation =
    (route: FaultRoute, handler: (req: Request, app: FeishuApp) => object) =>
    (req: Request, res: Response) => {
      let answer: () => void;
      try {
        const fault = state.faults.take(route);
        if (fault)
          throw new FeishuApiError(fault.code, fault.msg, fault.httpStatus);
        const app = authenticate(req);
        if (!state.rateLimits.take(app.appId, route, Date.now())) {
          throw new FeishuApiError(
            FeishuCode.frequencyLimit,
            'request trigger frequency limit',
          );
        }
        const data = handler(req, app);
        answer = () => res.json({ code: 0, msg: 'success', data });
      } catch (error) {
        if (!(error instanceof FeishuApiError)) throw error;
        answer = () => sendError(res, error);
      }
      answerAsFaulted(state.faults, route, req.socket, answer, () =>
        res.status(500).type('text/plain').send('Internal Server Error'),
      );
    };

  router.post('/auth/v3/tenant_access_token/internal', (req, res) => {
    const appId: unknown = req.body?.app_id;
    if (typeof appId === 'string') countTokenRequest(state.stats, appId);
    const fault = state.faults.take('token');
    if (fault) {
      res
        .status(fault.httpStatus)
        .json({ code: fault.code, msg: fault.msg, data: {} });
      return;
    }
    // The token endpoint answers credential problems with HTTP 200 and a non-zero code.
    const request = tokenRequestSchema.safeParse(req.body);
    const app = request.success
      ? state.apps.get(request.data.app_id)
      : undefined;
    if (!request.success || !app) {
      res.json({
        code: FeishuCode.invalidParam,
        msg: 'invalid param',
        data: {},
      });
    } else if (app.appSecret !== request.data.app_secret) {
      res.json({
        code: FeishuCode.appSecretInvalid,
        msg: 'app secret invalid',
        data: {},
      });
    } else {
      const { token, expire } = state.issueToken(app.appId, Date.now());
      res.json({ code: 0, msg: 'ok', tenant_access_token: token, expire });
    }
  });

  router.post(
    '/approval/v4/approvals',
    operation('approval.create', (req, app) => {
      // The scope is checked before anything in the request is looked at.
      if (!app.definitionWrite)
        throw scopeMissing(app.appId, DEFINITION_WRITE_SCOPES);
      approvalInput(userIdTypeSchema, req.query);
      const saved = platform.saveApproval(
        app.appId,
        approvalInput(createApprovalRequestSchema, req.body),
      );
      return {
        approval_code: saved.approvalCode,
        approval_id: saved.approvalId,
      };
    }),
  );

  router.get(
    '/approval/v4/approvals/:approval_code',
    operation('approval.get', req => {
      const approval = state.approvals.get(req.params.approval_code);
      if (!approval)
        throw new FeishuApiError(
          FeishuCode.approvalNotFound,
          'approval code not found',
        );
      return {
        approval_name: approval.name,
        status: 'ACTIVE',
        form: JSON.stringify(
          approval.form.map(({ id, name, type, required }) => ({
            id,
            name,
            type,
            required,
          })),
        ),
        node_list: approval.nodes.map(node => ({
          name: node.name,
          need_approver: node.needApprover,
          node_id: node.nodeId,
          ...(node.customNodeId === undefined
            ? {}
            : { custom_node_id: node.customNodeId }),
          node_type: node.type,
          approver_chosen_multi: node.approverChosenMulti,
        })),
      };
    }),
  );

  router.post(
    '/approval/v4/approvals/:approval_code/subscribe',
    operation('subscribe', (req, app) => {
      const approvalCode = req.params.approval_code;
      if (!state.approvals.has(approvalCode)) {
        throw new FeishuApiError(
          FeishuCode.approvalNotFound,
          'approval code not found',
        );
      }
      // Feishu refuses a second subscription rather than confirming it; clients treat this code as done.
      if (app.subscriptions.has(approvalCode)) {
        throw new FeishuApiError(
          FeishuCode.subscriptionExisted,
          'subscription existed',
        );
      }
      app.subscriptions.add(approvalCode);
      return {};
    }),
  );

  router.post(
    '/approval/v4/instances',
    operation('instance.create', (req, app) => {
      const instance = platform.createInstance(
        app.appId,
        approvalInput(createInstanceRequestSchema, req.body),
      );
      return { instance_code: instance.instanceCode };
    }),
  );

  router.post(
    '/approval/v4/instances/cancel',
    operation('instance.cancel', req => {
      const { user_id_type } = approvalInput(userIdTypeSchema, req.query);
      platform.cancel(
        approvalInput(cancelInstanceRequestSchema, req.body),
        user_id_type,
      );
      return {};
    }),
  );

  router.post(
    '/approval/v4/instances/cc',
    operation('instance.cc', req => {
      const { user_id_type } = approvalInput(userIdTypeSchema, req.query);
      platform.cc(
        approvalInput(ccInstanceRequestSchema, req.body),
        user_id_type,
      );
      return {};
    }),
  );

  for (const decision of ['approve', 'reject'] as const)
    router.post(
      `/approval/v4/tasks/${decision}`,
      operation(`task.${decision}`, req => {
        const { user_id_type } = approvalInput(userIdTypeSchema, req.query);
        const request = approvalInput(taskDecisionRequestSchema, req.body);
        const openId = taskDecider(state, request, user_id_type);
        asApiRefusal(() =>
          platform.decide(request.instance_code, {
            decision,
            openId,
            ...(request.comment !== undefined && { comment: request.comment }),
          }),
        );
        return {};
      }),
    );

  router.patch(
    '/im/v1/messages/:message_id',
    operation('message.update', (req, app) => {
      const body = z
        .object({ content: z.string().min(1) })
        .safeParse(req.body ?? {});
      if (!body.success)
        throw new FeishuApiError(
          FeishuMessageCode.invalidParameter,
          'Your request contains an invalid request parameter, ext=content is required',
        );
      const message = updateFeishuMessage(
        state,
        app,
        req.params.message_id,
        body.data.content,
      );
      return { message_id: message.messageId };
    }),
  );

  router.post(
    '/approval/v4/instances/add_sign',
    operation('instance.add_sign', req => {
      const request = approvalInput(addSignRequestSchema, req.body);
      asApiRefusal(() =>
        platform.addApprovers(request.instance_code, addSign(state, request)),
      );
      return {};
    }),
  );

  router.get(
    '/approval/v4/instances/:instance_code',
    operation('instance.get', req => {
      const instance = state.findInstance(req.params.instance_code);
      if (!instance)
        throw new FeishuApiError(
          FeishuCode.instanceNotFound,
          'instance code not found',
        );
      state.stats.instanceReads += 1;
      return instanceData(
        instance,
        openId => state.users.get(openId)?.userId ?? '',
      );
    }),
  );

  router.post(
    '/im/v1/messages',
    operation('message.create', (req, app) => {
      const query = sendMessageQuerySchema.safeParse(req.query);
      const body = sendMessageBodySchema.safeParse(req.body ?? {});
      if (!query.success || !body.success)
        throw new FeishuApiError(
          FeishuMessageCode.invalidParameter,
          `Your request contains an invalid request parameter, ext=${[
            ...(query.error?.issues ?? []),
            ...(body.error?.issues ?? []),
          ]
            .map(issue => `${issue.path.join('.')}: ${issue.message}`)
            .join('; ')}`,
        );
      const message = sendFeishuMessage(
        state,
        app,
        query.data,
        body.data,
        Date.now(),
      );
      return {
        message_id: message.messageId,
        msg_type: message.msgType,
        create_time: String(message.at),
        sender: { id: app.appId, id_type: 'app_id', sender_type: 'app' },
      };
    }),
  );

  router.post(
    '/contact/v3/users/batch_get_id',
    operation('user.batch_get_id', req => {
      const { user_id_type } = contactInput(userIdTypeSchema, req.query);
      const { emails = [], mobiles = [] } = contactInput(
        batchGetIdSchema,
        req.body,
      );
      // One entry per asked email or mobile; one nobody has comes back without a user_id.
      const entry = (
        user: FeishuUser | undefined,
        asked: { email: string } | { mobile: string },
      ) =>
        user
          ? {
              user_id: idOf(user, user_id_type),
              ...asked,
              status: ACTIVE_USER_STATUS,
            }
          : asked;
      return {
        user_list: [
          ...emails.map(email => entry(state.userByEmail(email), { email })),
          ...mobiles.map(mobile =>
            entry(state.userByMobile(mobile), { mobile }),
          ),
        ],
      };
    }),
  );

  router.get(
    '/contact/v3/users/:user_id',
    operation('user.get', req => {
      const { user_id_type } = contactInput(userIdTypeSchema, req.query);
      const id = req.params.user_id;
      const user =
        user_id_type === 'open_id'
          ? state.users.get(id)
          : state.userByUserId(id);
      if (!user)
        throw new FeishuApiError(
          FeishuCode.userIdInvalid,
          'user id invalid error',
        );
      return {
        user: {
          open_id: user.openId,
          user_id: user.userId,
          name: user.name,
          ...(user.email === undefined ? {} : { email: user.email }),
          ...(user.mobile === undefined ? {} : { mobile: user.mobile }),
          status: ACTIVE_USER_STATUS,
        },
      };
    }),
  );

  // Feishu answers unknown paths and methods with a plain-text 404, not a JSON envelope.
  router.use((_req, res) => {
    res.status(404).type('text/plain').send('404 page not found');
  });
  const badBody: ErrorRequestHandler = (error, _req, res, next) => {
    if (error?.type !== 'entity.parse.failed') {
      next(error);
      return;
    }
    const message =
      'field validation failed: the request body is not valid JSON';
    sendError(
      res,
      new FeishuApiError(FeishuCode.fieldValidationFailed, message),
    );
  };
  router.use(badBody);
  return router;
}

function instanceData(
  instance: Instance,
  userIdOf: (openId: string) => string,
) {
  // A TRANSFER names whom the task went to, in the entry and again in its ext.
  const handedTo = (entry: TimelineEntry) =>
    entry.toOpenIds === undefined
      ? {}
      : {
          open_id_list: entry.toOpenIds,
          user_id_list: entry.toOpenIds.map(userIdOf),
        };
  return {
    approval_code: instance.approvalCode,
    approval_name: instance.approvalName,
    instance_code: instance.instanceCode,
    serial_number: instance.serialNumber,
    status: instance.flow.status,
    open_id: instance.initiator,
    user_id: userIdOf(instance.initiator),
    ...(instance.uuid === undefined ? {} : { uuid: instance.uuid }),
    start_time: String(instance.startTime),
    // Feishu reports "0" until the instance ends.
    end_time: String(instance.flow.endTime ?? 0),
    reverted: false,
    form: JSON.stringify(instance.form),
    task_list: instance.flow.tasks.map(task => {
      const node = instance.nodes[task.node];
      return {
        id: task.id,
        open_id: task.userId,
        user_id: userIdOf(task.userId),
        status: task.status,
        node_id: node.nodeId,
        node_name: node.name,
        ...(node.customNodeId === undefined
          ? {}
          : { custom_node_id: node.customNodeId }),
        type: node.type,
        start_time: String(task.startTime),
        end_time: String(task.endTime ?? 0),
      };
    }),
    comment_list: [],
    timeline: instance.timeline.map(entry => ({
      type: entry.type,
      create_time: String(entry.createTime),
      open_id: entry.openId,
      user_id: userIdOf(entry.openId),
      ...(entry.comment === undefined ? {} : { comment: entry.comment }),
      ...(entry.taskId === undefined ? {} : { task_id: entry.taskId }),
      ...(entry.nodeId === undefined ? {} : { node_key: entry.nodeId }),
      ...handedTo(entry),
      ...(entry.ccOpenIds === undefined
        ? {}
        : {
            cc_user_list: entry.ccOpenIds.map((openId, index) => ({
              open_id: openId,
              user_id: userIdOf(openId),
              cc_id: `${entry.createTime}${index}`,
            })),
          }),
      ext: JSON.stringify(handedTo(entry)),
    })),
  };
}

/** The app's own refusals (a settled instance, someone already asked) in the approval API's words. */
function asApiRefusal(act: () => unknown): void {
  try {
    act();
  } catch (error) {
    if (error instanceof DecisionError)
      throw approvalParamInvalid(error.message);
    throw error;
  }
}

function approvalInput<T>(schema: z.ZodType<T>, value: unknown): T {
  return parseOrRefuse(schema, value, approvalParamInvalid);
}

function contactInput<T>(schema: z.ZodType<T>, value: unknown): T {
  return parseOrRefuse(
    schema,
    value,
    issues =>
      new FeishuApiError(
        FeishuCode.fieldValidationFailed,
        `field validation failed: ${issues}`,
      ),
  );
}

function sendError(res: Response, error: FeishuApiError): void {
  // Feishu attaches a log id to every failed call so support can trace it.
  const time = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const logId = `${time}${randomBytes(10).toString('hex').toUpperCase()}`;
  res.status(error.httpStatus).json({
    code: error.code,
    msg: error.message,
    error: { ...error.detail, log_id: logId },
  });
}
