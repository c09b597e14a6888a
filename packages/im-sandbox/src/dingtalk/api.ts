import { randomBytes } from 'node:crypto';
import express, {
  type ErrorRequestHandler,
  type Request,
  type Response,
  Router,
} from 'express';
import { z } from 'zod';
import { countTokenRequest } from '../platform/apiCounts';
import { answerAsFaulted } from '../platform/faults';
import { describeIssues, parseOrRefuse } from '../validation';
import {
  DingtalkApiError,
  DingtalkCode,
  invalidParameter,
  permissionDenied,
} from './errors';
import {
  createAndDeliverSchema,
  deliverCard,
  updateCard,
  updateCardSchema,
} from './cards';
import { formCreateRequestSchema } from './forms';
import { sendWorkNotice, workNoticeSchema } from './notices';
import type { DingtalkPlatform } from './platform';
import type {
  DingtalkApp,
  DingtalkComponent,
  DingtalkFaultRoute,
  DingtalkInstance,
  DingtalkPermission,
} from './state';
import {
  createInstanceRequestSchema,
  executeTaskSchema,
  instanceResult,
  instanceStatus,
  terminateRequestSchema,
} from './workflow';

// DingTalk's APIs at their own paths: the new API of api.dingtalk.com (/v1.0/...) and the few
// old-API calls of oapi.dingtalk.com (/gettoken, /topapi/...), both on the sandbox's origin.

const tokenRequestSchema = z.object({
  appKey: z.string().min(1),
  appSecret: z.string().min(1),
});
const oapiTokenQuerySchema = z.object({
  appkey: z.string().min(1),
  appsecret: z.string().min(1),
});
const getByMobileSchema = z.object({ mobile: z.string().min(1) });
const getUserSchema = z.object({
  userid: z.string().min(1),
  language: z.string().optional(),
});

/** DingTalk's dates in the new API: minutes, UTC ("2024-05-01T08:30Z"). */
const dingtalkDate = (ms: number) =>
  `${new Date(ms).toISOString().slice(0, 16)}Z`;

/** DingTalk documents startTime and endTime in epoch milliseconds; maxResults at most 20. */
const epochMs = z.number().int().min(1e12, 'must be epoch milliseconds');
const listInstanceIdsSchema = z.object({
  processCode: z.string().min(1),
  startTime: epochMs,
  endTime: epochMs.optional(),
  nextToken: z.coerce.number().int().min(0).default(0),
  maxResults: z.number().int().min(1).max(20),
  userIds: z.array(z.string()).max(10).optional(),
  statuses: z.array(z.string()).optional(),
});

const requestId = () => randomBytes(8).toString('hex');

/** A task's status and result as the read API reports them. */
const TASK_STATES = {
  PENDING: { status: 'RUNNING', result: 'NONE' },
  APPROVED: { status: 'COMPLETED', result: 'AGREE' },
  REJECTED: { status: 'COMPLETED', result: 'REFUSE' },
  DONE: { status: 'CANCELED', result: 'NONE' },
  TRANSFERRED: { status: 'COMPLETED', result: 'REDIRECTED' },
} as const;

export function dingtalkApi(platform: DingtalkPlatform): Router {
  const { state } = platform;
  const router = Router();
  // Mounted at the root beside the other IMs: parse and answer only DingTalk's own paths.
  const paths = ['/v1.0', '/gettoken', '/topapi'];
  router.use(paths, express.json());

  const appOfToken = (token: string | undefined): DingtalkApp | undefined => {
    const appKey = state.tokens.appIdOf(token, Date.now());
    return appKey === undefined ? undefined : state.apps.get(appKey);
  };

  /** The gateway refuses an API whose permission the app lacks, before the API looks at the request. */
  const requirePermission = (app: DingtalkApp, scope: DingtalkPermission) => {
    if (app.revokedPermissions?.includes(scope)) throw permissionDenied(scope);
  };

  /** DingTalk's answer when its gateway fails. */
  const internalError = (res: Response) => () =>
    res.status(500).json({
      code: 'InternalError',
      message: '系统繁忙',
      requestid: requestId(),
    });

  /** One new-API operation: counted, faults applied, token checked, errors in the new API's shape. */
  const operation =
    (
      route: DingtalkFaultRoute,
      handler: (req: Request, app: DingtalkApp) => object,
    ) =>
    (req: Request, res: Response) => {
      let answer: () => void;
      try {
        const fault = state.faults.take(route);
        if (fault)
          throw new DingtalkApiError(
            fault.httpStatus,
            String(fault.code),
            fault.msg,
          );
        const app = appOfToken(req.get('x-acs-dingtalk-access-token'));
        if (!app)
          throw new DingtalkApiError(
            401,
            DingtalkCode.invalidAuthentication,
            '不合法的access_token',
          );
        if (!state.takeQps(app.appKey, route, Date.now())) {
          state.stats.rateLimited += 1;
          throw new DingtalkApiError(
            403,
            DingtalkCode.qpsLimitForAppkeyAndApi,
            '应用调用该接口的频率超过了限制，请降低调用频率',
          );
        }
        const body = handler(req, app);
        answer = () => res.json(body);
      } catch (error) {
        if (!(error instanceof DingtalkApiError)) throw error;
        answer = () =>
          res.status(error.httpStatus).json({
            code: error.code,
            message: error.message,
            requestid: requestId(),
            ...error.detail,
          });
      }
      answerAsFaulted(
        state.faults,
        route,
        req.socket,
        answer,
        internalError(res),
      );
    };

  /** One old-API operation: HTTP 200 and {errcode, errmsg} always. */
  const oapiOperation =
    (
      route: DingtalkFaultRoute,
      authenticated: boolean,
      handler: (req: Request) => object,
    ) =>
    (req: Request, res: Response) => {
      const fault = state.faults.take(route);
      if (fault) {
        res.status(fault.httpStatus).json({
          errcode: fault.code,
          errmsg: fault.msg,
          request_id: requestId(),
        });
        return;
      }
      if (
        authenticated &&
        !appOfToken(
          typeof req.query.access_token === 'string'
            ? req.query.access_token
            : undefined,
        )
      ) {
        res.json({
          errcode: DingtalkCode.oapiInvalidToken,
          errmsg: '不合法的access_token',
          request_id: requestId(),
        });
        return;
      }
      const body = { request_id: requestId(), ...handler(req) };
      answerAsFaulted(
        state.faults,
        route,
        req.socket,
        () => res.json(body),
        internalError(res),
      );
    };

  router.post('/v1.0/oauth2/accessToken', (req, res) => {
    const appKey: unknown = req.body?.appKey;
    if (typeof appKey === 'string') countTokenRequest(state.stats, appKey);
    const fault = state.faults.take('token');
    const request = tokenRequestSchema.safeParse(req.body ?? {});
    const app = request.success
      ? state.apps.get(request.data.appKey)
      : undefined;
    if (fault) {
      res.status(fault.httpStatus).json({
        code: String(fault.code),
        message: fault.msg,
        requestid: requestId(),
      });
    } else if (!request.success) {
      res.status(400).json({
        code: 'MissingParameter',
        message: describeIssues(request.error),
        requestid: requestId(),
      });
    } else if (app?.appSecret !== request.data.appSecret) {
      res.status(400).json({
        code: DingtalkCode.invalidClientIdOrSecret,
        message: '无效的clientId或者clientSecret',
        requestid: requestId(),
      });
    } else {
      const { token, expiresIn } = state.tokens.issue(app.appKey, Date.now());
      res.json({ accessToken: token, expireIn: expiresIn });
    }
  });

  router.get(
    '/gettoken',
    oapiOperation('oapi.token', false, req => {
      const query = oapiTokenQuerySchema.safeParse(req.query);
      if (query.success) countTokenRequest(state.stats, query.data.appkey);
      const app = query.success ? state.apps.get(query.data.appkey) : undefined;
      if (!query.success || app?.appSecret !== query.data.appsecret) {
        return {
          errcode: DingtalkCode.oapiInvalidCredentials,
          errmsg: '不合法的appKey或appSecret的访问',
        };
      }
      const { token, expiresIn } = state.tokens.issue(app.appKey, Date.now());
      return {
        errcode: 0,
        errmsg: 'ok',
        access_token: token,
        expires_in: expiresIn,
      };
    }),
  );

  router.post(
    '/topapi/v2/user/getbymobile',
    oapiOperation('user.getbymobile', true, req => {
      const body = getByMobileSchema.safeParse(req.body ?? {});
      if (!body.success)
        return {
          errcode: 40035,
          errmsg: `不合法的参数: ${describeIssues(body.error)}`,
        };
      const user = state.userByMobile(body.data.mobile);
      if (!user)
        return {
          errcode: DingtalkCode.oapiUserNotFound,
          errmsg: '找不到该用户',
        };
      return {
        errcode: 0,
        errmsg: 'ok',
        result: { userid: user.userId, exclusive_account_userid_list: [] },
      };
    }),
  );

  // The contact a decider's name is read from; fields beyond userid and name need further permissions.
  router.post(
    '/topapi/v2/user/get',
    oapiOperation('user.get', true, req => {
      const body = getUserSchema.safeParse(req.body ?? {});
      if (!body.success)
        return {
          errcode: 40035,
          errmsg: `不合法的参数: ${describeIssues(body.error)}`,
        };
      const user = state.users.get(body.data.userid);
      if (!user)
        return {
          errcode: DingtalkCode.oapiUserNotFound,
          errmsg: '找不到该用户',
        };
      return {
        errcode: 0,
        errmsg: 'ok',
        result: { userid: user.userId, name: user.name },
      };
    }),
  );

  router.post(
    '/topapi/message/corpconversation/asyncsend_v2',
    oapiOperation('message.send', true, req => {
      const app = appOfToken(String(req.query.access_token));
      const body = workNoticeSchema.safeParse(req.body ?? {});
      if (!app || !body.success)
        return {
          errcode: 40035,
          errmsg: `不合法的参数: ${body.success ? 'access_token' : describeIssues(body.error)}`,
        };
      if (body.data.agent_id !== app.agentId)
        return {
          errcode: 40035,
          errmsg: `不合法的参数 agent_id: ${body.data.agent_id} is not app ${app.appKey}'s AgentId`,
        };
      return {
        errcode: 0,
        errmsg: 'ok',
        task_id: sendWorkNotice(state, app, body.data, Date.now()),
      };
    }),
  );

  router.get(
    '/v1.0/workflow/forms/schemas/processCodes',
    operation('form.get', req => {
      const processCode = input(
        z.object({ processCode: z.string().min(1) }),
        req.query,
      ).processCode;
      const form = state.forms.get(processCode);
      if (!form)
        throw new DingtalkApiError(
          400,
          'processCodeNotExist',
          `processCode ${processCode} does not exist`,
        );
      return {
        result: {
          name: form.name,
          formCode: form.processCode,
          ...(form.description === undefined ? {} : { memo: form.description }),
          schemaContent: {
            title: form.name,
            items: form.components.map(schemaItem),
          },
        },
      };
    }),
  );

  // Create or update an approval form template: answers the form's processCode (the same one when updating).
  router.post(
    '/v1.0/workflow/forms',
    operation('form.save', (req, app) => {
      requirePermission(app, 'Workflow.Form.Write');
      const form = platform.saveForm(
        app.appKey,
        input(formCreateRequestSchema, req.body),
      );
      return { result: { processCode: form.processCode } };
    }),
  );

  router.post(
    '/v1.0/workflow/processInstances',
    operation('instance.create', (req, app) => {
      const instance = platform.createInstance(
        app.appKey,
        input(createInstanceRequestSchema, req.body),
      );
      return { instanceId: instance.processInstanceId };
    }),
  );

  // ListProcessInstanceIds: the form's instance ids created in [startTime, endTime] (milliseconds),
  // optionally by these originators, at most 20 a page; nextToken is the offset of the next page.
  router.post(
    '/v1.0/workflow/processes/instanceIds/query',
    operation('instance.list', req => {
      const query = input(listInstanceIdsSchema, req.body);
      const endTime = query.endTime ?? Date.now();
      const ids = [...state.instances.values()]
        .filter(
          instance =>
            instance.processCode === query.processCode &&
            instance.createTime >= query.startTime &&
            instance.createTime <= endTime &&
            (!query.userIds?.length ||
              query.userIds.includes(instance.originatorUserId)),
        )
        .sort((a, b) => a.createTime - b.createTime)
        .map(instance => instance.processInstanceId);
      const page = ids.slice(
        query.nextToken,
        query.nextToken + query.maxResults,
      );
      const next = query.nextToken + page.length;
      return {
        success: true,
        result: {
          list: page,
          ...(next < ids.length ? { nextToken: next } : {}),
        },
      };
    }),
  );

  router.get(
    '/v1.0/workflow/processInstances',
    operation('instance.get', req => {
      const id = input(
        z.object({ processInstanceId: z.string().min(1) }),
        req.query,
      ).processInstanceId;
      const instance = state.instances.get(id);
      if (!instance)
        throw new DingtalkApiError(
          400,
          'processInstanceNotExist',
          `process instance ${id} does not exist`,
        );
      state.stats.instanceReads += 1;
      return { success: true, result: instanceBody(instance) };
    }),
  );

  router.post(
    '/v1.0/workflow/processInstances/terminate',
    operation('instance.terminate', req => {
      platform.terminate(input(terminateRequestSchema, req.body));
      return { success: true, result: true };
    }),
  );

  // ExecuteProcessInstance: an approver's own pending task agreed or refused, as them.
  router.post(
    '/v1.0/workflow/processInstances/execute',
    operation('task.execute', req => {
      const request = input(executeTaskSchema, req.body);
      const instance = state.instances.get(request.processInstanceId);
      if (!instance)
        throw new DingtalkApiError(
          400,
          'processInstanceNotExist',
          `process instance ${request.processInstanceId} does not exist`,
        );
      const task = instance.flow.tasks.find(
        candidate => Number(candidate.id) === request.taskId,
      );
      if (!task || task.userId !== request.actionerUserId)
        throw new DingtalkApiError(
          400,
          'taskNotExist',
          `task ${request.taskId} is not ${request.actionerUserId}'s task of instance ${request.processInstanceId}`,
        );
      if (task.status !== 'PENDING')
        throw new DingtalkApiError(
          400,
          'taskNotRunning',
          `task ${request.taskId} is not running (it is ${TASK_STATES[task.status].status})`,
        );
      platform.decide(instance.processInstanceId, {
        decision: request.result === 'agree' ? 'approve' : 'reject',
        userId: request.actionerUserId,
        ...(request.remark !== undefined && { comment: request.remark }),
      });
      return { success: true, result: true };
    }),
  );

  router.post(
    '/v1.0/card/instances/createAndDeliver',
    operation('card.deliver', (req, app) => {
      requirePermission(app, 'Card.Instance.Write');
      const card = deliverCard(
        state,
        app.appKey,
        input(createAndDeliverSchema, req.body),
        Date.now(),
      );
      return {
        success: true,
        result: {
          outTrackId: card.outTrackId,
          deliverResults: [
            {
              spaceType: 'IM_GROUP',
              spaceId: card.chatId,
              success: true,
              carrierId: requestId(),
            },
          ],
        },
      };
    }),
  );

  router.put(
    '/v1.0/card/instances',
    operation('card.update', (req, app) => {
      requirePermission(app, 'Card.Instance.Write');
      updateCard(state, app.appKey, input(updateCardSchema, req.body));
      return { success: true, result: true };
    }),
  );

  const badBody: ErrorRequestHandler = (error, _req, res, next) => {
    if (error?.type !== 'entity.parse.failed') {
      next(error);
      return;
    }
    res.status(400).json({
      code: DingtalkCode.invalidParameter,
      message: 'the request body is not valid JSON',
      requestid: requestId(),
    });
  };
  router.use(paths, badBody);
  return router;
}

/** A component as the schema read reports it. */
function schemaItem(component: DingtalkComponent): object {
  return {
    componentName: component.componentType,
    props: {
      id: component.id,
      label: component.label,
      required: component.required,
    },
    ...(component.children
      ? { children: component.children.map(schemaItem) }
      : {}),
  };
}

function instanceBody(instance: DingtalkInstance) {
  return {
    title: instance.formName,
    businessId: instance.businessId,
    originatorUserId: instance.originatorUserId,
    status: instanceStatus(instance),
    result: instanceResult(instance),
    createTime: dingtalkDate(instance.createTime),
    ...(instance.flow.endTime === undefined
      ? {}
      : { finishTime: dingtalkDate(instance.flow.endTime) }),
    approverUserIds: instance.approvers.flatMap(node => node.userIds),
    ...(instance.ccUserIds ? { ccUserIds: instance.ccUserIds } : {}),
    formComponentValues: instance.formComponentValues,
    operationRecords: instance.operationRecords.map(record => ({
      userId: record.userId,
      date: dingtalkDate(record.date),
      type: record.type,
      result: record.result,
      ...(record.remark === undefined ? {} : { remark: record.remark }),
    })),
    tasks: instance.flow.tasks.map(task => ({
      taskId: Number(task.id),
      userId: task.userId,
      ...TASK_STATES[task.status],
      createTime: dingtalkDate(task.startTime),
      ...(task.endTime === undefined
        ? {}
        : { finishTime: dingtalkDate(task.endTime) }),
      processInstanceId: instance.processInstanceId,
      activityId: `node_${task.node}`,
    })),
  };
}

function input<T>(schema: z.ZodType<T>, value: unknown): T {
  return parseOrRefuse(schema, value, invalidParameter);
}
