import express, {
  type ErrorRequestHandler,
  type Request,
  type Response,
  Router,
} from 'express';
import { z } from 'zod';
import { countTokenRequest } from '../platform/apiCounts';
import { answerAsFaulted } from '../platform/faults';
import { parseOrRefuse } from '../validation';
import { WecomApiError, WecomCode, applyInvalid, errorBody } from './errors';
import type { WecomPlatform } from './platform';
import type { WecomApp, WecomFaultRoute, WecomInstance } from './state';
import {
  applyEventRequestSchema,
  seconds,
  spRecords,
  templateNotFound,
} from './workflow';
import {
  chatOf,
  createChat,
  createChatSchema,
  sendChatMessage,
  sendChatMessageSchema,
} from './appchats';
import { sendWecomMessage, sendWecomMessageSchema } from './messages';

// WeCom's server API (qyapi.weixin.qq.com) at its own paths under /cgi-bin, on the sandbox's
// origin: HTTP 200 and {errcode, errmsg} always; the access_token on the query.

const tokenQuerySchema = z.object({
  corpid: z.string().optional(),
  corpsecret: z.string().optional(),
});
const templateRequestSchema = z.object({ template_id: z.string().min(1) });
const detailRequestSchema = z.object({
  sp_no: z
    .union([z.string().min(1), z.number().int().positive()])
    .transform(String),
});
const mobileRequestSchema = z.object({ mobile: z.string().min(1) });
const emailRequestSchema = z.object({
  email: z.string().min(1),
  email_type: z.union([z.literal(1), z.literal(2)]).optional(),
});
const userQuerySchema = z.object({ userid: z.string().min(1) });

const approvalInfoRequestSchema = z.object({
  starttime: z.coerce.number().int().min(0).max(1e11, 'must be epoch seconds'),
  endtime: z.coerce.number().int().min(0).max(1e11, 'must be epoch seconds'),
  new_cursor: z.string().optional().default(''),
  size: z.number().int().min(1).max(100).default(100),
  filters: z
    .array(
      z.object({
        key: z.enum(['template_id', 'creator', 'department', 'sp_status']),
        value: z.string(),
      }),
    )
    .max(10)
    .optional()
    .default([]),
});

/** The zh_CN text lists WeCom's multilingual fields use. */
const zh = (text: string) => [{ text, lang: 'zh_CN' }];

export function wecomApi(platform: WecomPlatform): Router {
  const { state } = platform;
  const router = Router();
  // WeCom reads the body as JSON whatever its content type says.
  router.use('/cgi-bin', express.json({ type: () => true }));

  const appOfToken = (token: unknown): WecomApp => {
    if (typeof token !== 'string' || token === '')
      throw new WecomApiError(WecomCode.missingToken, 'access_token missing');
    const agentId = state.tokens.appIdOf(token, Date.now());
    const app =
      agentId === undefined ? undefined : state.apps.get(Number(agentId));
    if (app) return app;
    if (state.tokens.isExpired(token, Date.now()))
      throw new WecomApiError(WecomCode.expiredToken, 'access_token expired');
    throw new WecomApiError(WecomCode.invalidToken, 'invalid access_token');
  };

  /** One authenticated call: counted, faults applied, the token checked, and for OA calls the per-minute limit. */
  const operation =
    (
      route: WecomFaultRoute,
      handler: (req: Request, app: WecomApp) => object,
    ) =>
    (req: Request, res: Response) => {
      const internalError = () =>
        res
          .status(500)
          .type('text/html')
          .send('<html><body>500 Internal Server Error</body></html>');
      let answer: () => void;
      try {
        const fault = state.faults.take(route);
        if (fault) {
          res.status(fault.httpStatus).json(errorBody(fault.code, fault.msg));
          return;
        }
        const app = appOfToken(req.query.access_token);
        if (route.startsWith('oa.') && !app.approvalApi)
          throw new WecomApiError(
            WecomCode.noApprovalAuth,
            `no approval auth: app ${app.agentId} is not in the Approval app's "apps that may call the API" list (admin console → Approval → API)`,
          );
        if (route.startsWith('oa.') && !state.rateLimit.take(Date.now())) {
          state.stats.rateLimited += 1;
          throw new WecomApiError(
            WecomCode.rateLimited,
            'api freq out of limit',
          );
        }
        const body = { errcode: 0, errmsg: 'ok', ...handler(req, app) };
        answer = () => res.json(body);
      } catch (error) {
        if (!(error instanceof WecomApiError)) throw error;
        answer = () => res.json(errorBody(error.errcode, error.message));
      }
      answerAsFaulted(state.faults, route, req.socket, answer, internalError);
    };

  router.get('/cgi-bin/gettoken', (req, res) => {
    const fault = state.faults.take('gettoken');
    const { corpid, corpsecret } = tokenQuerySchema.parse(req.query);
    const app =
      corpid === state.corpId && corpsecret
        ? state.appBySecret(corpsecret)
        : undefined;
    if (app) countTokenRequest(state.stats, String(app.agentId));
    if (fault)
      res.status(fault.httpStatus).json(errorBody(fault.code, fault.msg));
    else if (!corpid)
      res.json(errorBody(WecomCode.missingCorpId, 'corpid missing'));
    else if (!corpsecret)
      res.json(errorBody(WecomCode.missingSecret, 'corpsecret missing'));
    else if (corpid !== state.corpId)
      res.json(errorBody(WecomCode.invalidCorpId, 'invalid corpid'));
    else if (!app)
      res.json(errorBody(WecomCode.invalidSecret, 'invalid credential'));
    else {
      const { token, expiresIn } = state.tokens.issue(
        String(app.agentId),
        Date.now(),
      );
      res.json({
        errcode: 0,
        errmsg: 'ok',
        access_token: token,
        expires_in: expiresIn,
      });
    }
  });

  router.post(
    '/cgi-bin/message/send',
    operation('message.send', (req, app) =>
      sendWecomMessage(
        state,
        app,
        input(sendWecomMessageSchema, req.body),
        Date.now(),
      ),
    ),
  );

  router.post(
    '/cgi-bin/appchat/create',
    operation('appchat.create', (req, app) => ({
      chatid: createChat(state, app, input(createChatSchema, req.body)).chatId,
    })),
  );
  router.get(
    '/cgi-bin/appchat/get',
    operation('appchat.get', (req, app) => {
      const chat = chatOf(
        state,
        app,
        input(z.object({ chatid: z.string().min(1) }), req.query).chatid,
      );
      return {
        chat_info: {
          chatid: chat.chatId,
          name: chat.name,
          owner: chat.owner,
          userlist: chat.members,
        },
      };
    }),
  );
  router.post(
    '/cgi-bin/appchat/send',
    operation('appchat.send', (req, app) => {
      sendChatMessage(
        state,
        app,
        input(sendChatMessageSchema, req.body),
        Date.now(),
      );
      return {};
    }),
  );

  router.post(
    '/cgi-bin/oa/gettemplatedetail',
    operation('oa.gettemplatedetail', req => {
      const { template_id: templateId } = input(
        templateRequestSchema,
        req.body,
      );
      const template = state.templates.get(templateId);
      if (!template) throw templateNotFound(templateId);
      return {
        template_names: zh(template.name),
        template_content: {
          controls: template.controls.map(control => ({
            property: {
              control: control.control,
              id: control.id,
              title: zh(control.title),
              placeholder: [],
              require: control.required ? 1 : 0,
              un_print: 0,
            },
          })),
        },
      };
    }),
  );

  router.post(
    '/cgi-bin/oa/approval/create_template',
    operation('oa.approval.create_template', (req, app) => ({
      template_id: platform.createTemplate(app, req.body).templateId,
    })),
  );

  router.post(
    '/cgi-bin/oa/approval/update_template',
    operation('oa.approval.update_template', (req, app) => {
      platform.updateTemplate(app, req.body);
      return {};
    }),
  );

  router.post(
    '/cgi-bin/oa/applyevent',
    operation('oa.applyevent', (req, app) => {
      const request = parseOrRefuse(
        applyEventRequestSchema,
        req.body,
        applyInvalid,
      );
      const spNo = platform.createInstance(app.agentId, request).spNo;
      return { sp_no: spNo };
    }),
  );

  // getapprovalinfo: the sp_nos applied for in [starttime, endtime] (seconds, at most 31 days
  // apart), filtered by template_id, creator, department or sp_status, at most 100 a page.
  router.post(
    '/cgi-bin/oa/getapprovalinfo',
    operation('oa.getapprovalinfo', req => {
      const query = input(approvalInfoRequestSchema, req.body);
      if (
        query.endtime < query.starttime ||
        query.endtime - query.starttime > 31 * 86_400
      ) {
        throw new WecomApiError(
          WecomCode.invalidParameter,
          'invalid time range: endtime must be after starttime and within 31 days',
        );
      }
      const filter = (key: string) =>
        query.filters.filter(f => f.key === key).map(f => f.value);
      const [templates, creators, statuses] = [
        filter('template_id'),
        filter('creator'),
        filter('sp_status'),
      ];
      const spNos = [...state.instances.values()]
        .filter(instance => {
          const applied = seconds(instance.applyTime);
          return (
            applied >= query.starttime &&
            applied <= query.endtime &&
            (templates.length === 0 ||
              templates.includes(instance.templateId)) &&
            (creators.length === 0 || creators.includes(instance.applicant)) &&
            (statuses.length === 0 ||
              statuses.includes(String(instance.spStatus)))
          );
        })
        .sort((a, b) => a.applyTime - b.applyTime)
        .map(instance => instance.spNo);
      const offset = query.new_cursor ? Number(query.new_cursor) : 0;
      const page = spNos.slice(offset, offset + query.size);
      const next = offset + page.length;
      return {
        sp_no_list: page,
        new_next_cursor: next < spNos.length ? String(next) : '',
      };
    }),
  );

  router.post(
    '/cgi-bin/oa/getapprovaldetail',
    operation('oa.getapprovaldetail', req => {
      const { sp_no: spNo } = input(detailRequestSchema, req.body);
      const instance = state.instances.get(spNo);
      if (!instance)
        throw new WecomApiError(
          WecomCode.invalidParameter,
          `invalid sp_no ${spNo}`,
        );
      state.stats.instanceReads += 1;
      return { info: detailInfo(instance, state.detailShape) };
    }),
  );

  router.post(
    '/cgi-bin/user/getuserid',
    operation('user.getuserid', req => {
      const user = state.userByMobile(
        input(mobileRequestSchema, req.body).mobile,
      );
      if (!user)
        throw new WecomApiError(WecomCode.userNotFound, 'user not exist');
      return { userid: user.userId };
    }),
  );

  router.post(
    '/cgi-bin/user/get_userid_by_email',
    operation('user.get_userid_by_email', req => {
      const request = input(emailRequestSchema, req.body);
      const user = state.userByEmail(request.email, request.email_type ?? 1);
      if (!user)
        throw new WecomApiError(WecomCode.userNotFound, 'user not exist');
      return { userid: user.userId };
    }),
  );

  router.get(
    '/cgi-bin/user/get',
    operation('user.get', req => {
      const { userid } = input(userQuerySchema, req.query);
      const user = state.users.get(userid);
      if (!user)
        throw new WecomApiError(
          WecomCode.userIdNotFound,
          `userid not found: ${userid}`,
        );
      return {
        userid: user.userId,
        name: user.name,
        department: [1],
        main_department: 1,
        status: 1,
        ...(user.email ? { email: user.email } : {}),
        ...(user.bizMail ? { biz_mail: user.bizMail } : {}),
      };
    }),
  );

  // Anything else under /cgi-bin, such as a revoke call: WeCom offers no API for it.
  router.use('/cgi-bin', (req, res) => {
    res
      .status(404)
      .type('text/plain')
      .send(
        `${req.method} ${req.originalUrl.split('?')[0]} is not a WeCom API`,
      );
  });

  const badBody: ErrorRequestHandler = (error, _req, res, next) => {
    if (error?.type !== 'entity.parse.failed') {
      next(error);
      return;
    }
    res.json(
      errorBody(WecomCode.badJson, 'data format error: the body is not JSON'),
    );
  };
  router.use('/cgi-bin', badBody);
  return router;
}

/** getapprovaldetail's info: the request, each approver node's decisions with their speech, and the comments. */
function detailInfo(instance: WecomInstance, shape: 'current' | 'legacy') {
  const records = spRecords(instance);
  const approvers =
    shape === 'legacy'
      ? {
          sp_record: records.map(record => ({
            sp_status: record.spStatus,
            approverattr: record.approverAttr,
            details: record.details.map(detail => ({
              approver: { userid: detail.userId },
              speech: detail.speech,
              sp_status: detail.spStatus,
              sptime: detail.spTime,
              media_id: [],
            })),
          })),
        }
      : {
          // node_type 1 approver; apv_rel 1 all (会签), 2 any one (或签); sp_yj is each approver's own decision.
          process_list: {
            node_list: records.map(record => ({
              node_type: 1,
              sp_status: record.spStatus,
              apv_rel: record.approverAttr === 2 ? 1 : 2,
              sub_node_list: record.details.map(detail => ({
                userid: detail.userId,
                speech: detail.speech,
                sp_yj: detail.spStatus,
                sptime: detail.spTime,
                media_id: [],
              })),
            })),
          },
        };
  return {
    sp_no: instance.spNo,
    sp_name: instance.spName,
    sp_status: instance.spStatus,
    template_id: instance.templateId,
    apply_time: seconds(instance.applyTime),
    applyer: { userid: instance.applicant, partyid: '1' },
    ...approvers,
    notifyer: instance.notifyer.map(userid => ({ userid })),
    apply_data: {
      contents: instance.contents.map(content => ({
        control: content.control,
        id: content.id,
        title: zh(content.title),
        value: { text: content.text },
      })),
    },
    comments: instance.comments.map(comment => ({
      commentUserInfo: { userid: comment.userId },
      commenttime: seconds(comment.time),
      commentcontent: comment.content,
      commentid: comment.commentId,
      media_id: [],
    })),
  };
}

function input<T>(schema: z.ZodType<T>, value: unknown): T {
  return parseOrRefuse(
    schema,
    value,
    issues =>
      new WecomApiError(
        WecomCode.invalidParameter,
        `invalid parameter: ${issues}`,
      ),
  );
}
