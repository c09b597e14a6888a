import {
  oneLine,
  type WecomIntegration,
} from '@im-approval/plugin-im-approval-common';
import {
  ImApiError,
  type ImCallbackRequest,
  type ImCard,
  type ImClient,
  type ImFormField,
  type ImHandover,
  type ImFormSpec,
  type ImInstanceRef,
  type ImInstanceRequest,
  type ImInstanceState,
  type ImProviderDeps,
  type ImSavedForm,
  type ImStageProgress,
} from '@im-approval/plugin-im-approval-node';
import { z } from 'zod';
import { PersonNames } from '../api/PersonNames';
import { TtlCache } from '../api/TtlCache';
import {
  bareMobile,
  oneByOne,
  UserIdResolver,
  type ContactKind,
} from '../api/UserIdResolver';
import { rejectCallback } from '../callbackChecks';
import { fillForm, isContextField, withContext } from '../formFields';
import { instanceRef } from '../instanceRef';
import { WecomApi } from './WecomApi';
import { WecomCallbackVerifier } from './wecomCallback';
import { wecomOutcomeText, wecomTextcard } from './wecomCard';
import { summaryLines } from './wecomSummary';
import { WECOM_DECIDING_NODE_STATUS, WECOM_SP_STATUS } from './wecomStatus';
import { escapeHtml } from './wecomText';

const TEMPLATE_TTL_MS = 5 * 60_000;
/** get_userid_by_email's email_type: 1 a WeCom Mail (enterprise mailbox) address, 2 the member's own email field. */
const WECOM_MAIL = 1;
const MEMBER_EMAIL = 2;
/** WeCom's summary lines are of at most 20 characters each. */
const SUMMARY_LINE_CHARACTERS = 20;

/** A summary line within WeCom's 20 characters (code points, so no emoji is split), ending in … when cut. */
function summaryLine(text: string): string {
  const line = oneLine(text).replace(/\s+/g, ' ').trim();
  return oneLine(line, SUMMARY_LINE_CHARACTERS) || '-';
}

const templateSchema = z.object({
  template_content: z.object({
    controls: z.array(
      z.object({
        property: z.looseObject({
          control: z.string(),
          id: z.string(),
          title: z
            .array(z.object({ text: z.string(), lang: z.string().optional() }))
            .optional()
            .default([]),
          require: z.union([z.number(), z.boolean()]).optional(),
        }),
      }),
    ),
  }),
});

const decisionSchema = z.object({
  userid: z.string().optional(),
  speech: z.string().optional(),
  sptime: z.number().optional(),
});
const detailSchema = z.object({
  info: z.object({
    sp_status: z.number(),
    applyer: z.object({ userid: z.string().optional() }).optional(),
    apply_data: z
      .object({
        contents: z
          .array(
            z.object({
              id: z.string(),
              value: z
                .object({ text: z.string().optional() })
                .loose()
                .optional(),
            }),
          )
          .optional()
          .default([]),
      })
      .optional(),
    process_list: z
      .object({
        node_list: z
          .array(
            z.object({
              /** 1 pending, 2 approved, 3 rejected (and 13, approved with an approver added). */
              sp_status: z.number().optional(),
              sub_node_list: z
                .array(decisionSchema.extend({ sp_yj: z.number().optional() }))
                .optional()
                .default([]),
            }),
          )
          .optional()
          .default([]),
      })
      .optional(),
    sp_record: z
      .array(
        z.object({
          sp_status: z.number().optional(),
          details: z
            .array(
              z.object({
                approver: z.object({ userid: z.string() }).optional(),
                speech: z.string().optional(),
                sp_status: z.number().optional(),
                sptime: z.number().optional(),
              }),
            )
            .optional()
            .default([]),
        }),
      )
      .optional()
      .default([]),
  }),
});
const approvalListSchema = z.object({
  sp_no_list: z.array(z.string()).optional().default([]),
  new_next_cursor: z.string().optional(),
});
/** getapprovalinfo answers at most 100 a page. */
const FIND_PAGE_SIZE = 100;
const FIND_PAGES = 3;
type Detail = z.infer<typeof detailSchema>['info'];

const userIdSchema = z.object({ userid: z.string() });
const personSchema = z.object({ name: z.string().optional() });

/** An approver node of a detail and its approvers' own decisions, in either of the shapes WeCom answers. */
interface DetailNode {
  status?: number;
  approvers: Array<{
    userid?: string;
    speech?: string;
    sptime?: number;
    status?: number;
  }>;
}

function nodesOf(info: Detail): DetailNode[] {
  const current = info.process_list?.node_list ?? [];
  if (current.some(node => node.sub_node_list.length > 0))
    return current.map(node => ({
      status: node.sp_status,
      approvers: node.sub_node_list.map(sub => ({ ...sub, status: sub.sp_yj })),
    }));
  return info.sp_record.map(record => ({
    status: record.sp_status,
    approvers: record.details.map(d => ({
      userid: d.approver?.userid,
      speech: d.speech,
      sptime: d.sptime,
      status: d.sp_status,
    })),
  }));
}

const [APPROVED, REJECTED] = [
  WECOM_DECIDING_NODE_STATUS.approved ?? [],
  WECOM_DECIDING_NODE_STATUS.rejected ?? [],
];
/** sp_yj (or the older sp_status) of an approver whose task is open. */
const OPEN = 1;
/** sp_yj (or the older sp_status) of an approver who handed their task on (转审). */
const HANDED_ON = 4;

/** The control a form made from a spec has for a field: a Textarea for the request's context (several lines), else a Text. */
const controlOf = (label: string) =>
  isContextField(label) ? 'Textarea' : 'Text';
/** The ids of a made form's controls, in order: WeCom's "<type>-<digits>". */
const controlId = (label: string, index: number) =>
  `${controlOf(label)}-${String(index + 1).padStart(2, '0')}`;
const zh = (text: string) => [{ text, lang: 'zh_CN' }];

/** One WeCom self-built app that may call the Approval app's API. */
/** Members one app message may go to. */
const MESSAGE_USERS = 1000;

export class WecomClient implements ImClient {
  private readonly api: WecomApi;
  private readonly templates = new TtlCache<ImFormField[]>(TEMPLATE_TTL_MS);
  private readonly users: UserIdResolver;
  private readonly people: PersonNames;
  private readonly callbacks?: WecomCallbackVerifier;

  constructor(
    private readonly integration: WecomIntegration,
    private readonly deps: ImProviderDeps,
  ) {
    this.api = new WecomApi(integration, deps.logger, deps.keepToRateLimits);
    this.users = new UserIdResolver(
      oneByOne(contact => this.lookUpUser(contact)),
      (kind, value) =>
        `No WeCom user with ${kind} ${value} is visible to app ${integration.agentId}; ` +
        "check the spelling and that the person is inside the app's visible range",
    );
    this.people = new PersonNames(userid =>
      this.api
        .call(
          {
            operation: 'read a user',
            method: 'GET',
            path: '/cgi-bin/user/get',
            query: { userid },
          },
          personSchema,
        )
        .then(person => person.name),
    );
    if (integration.token && integration.encodingAESKey) {
      this.callbacks = new WecomCallbackVerifier({
        token: integration.token,
        encodingAesKey: integration.encodingAESKey,
        receiveId: integration.corpId,
      });
    }
  }

  verifyCredentials() {
    return this.api.verifyCredentials();
  }

  describeForm(templateId: string): Promise<ImFormField[]> {
    return this.templates.getOrLoad(templateId, () =>
      this.readTemplate(templateId),
    );
  }

  /**
   * The template's controls as WeCom has them now. gettemplatedetail's one parameter is the
   * template_id, so its 40058 (invalid parameter) means WeCom knows no such template.
   */
  private async readTemplate(templateId: string): Promise<ImFormField[]> {
    const detail = await this.api
      .call(
        {
          operation: `read approval template "${templateId}"`,
          method: 'POST',
          path: '/cgi-bin/oa/gettemplatedetail',
          body: { template_id: templateId },
        },
        templateSchema,
      )
      .catch(error => {
        if (error instanceof ImApiError && error.code === 40058)
          throw new ImApiError('not_found', error.message, error.code);
        throw error;
      });
    const fields = detail.template_content.controls.map(({ property }) => ({
      id: property.id,
      name:
        (property.title.find(t => t.lang === 'zh_CN') ?? property.title[0])
          ?.text ?? '',
      type: property.control,
      required: Boolean(property.require),
    }));
    this.templates.set(templateId, fields);
    return fields;
  }

  /**
   * Creates (create_template) or updates in place (update_template) an approval template with one
   * text control per field, titled by its label; the ids follow the order ("Text-01", …), so an
   * update keeps each field's id. The approver nodes are not the template's: each request gives
   * them (use_template_approver 0), one per stage.
   */
  async saveForm(spec: ImFormSpec, formId?: string): Promise<ImSavedForm> {
    const content = {
      template_name: zh(spec.name),
      template_content: {
        controls: spec.fields.map((label, index) => ({
          property: {
            control: controlOf(label),
            id: controlId(label, index),
            title: zh(label),
            require: 0,
          },
        })),
      },
    };
    if (formId === undefined) {
      const created = await this.api.call(
        {
          operation: `create approval template "${spec.name}"`,
          method: 'POST',
          path: '/cgi-bin/oa/approval/create_template',
          body: content,
        },
        z.object({ template_id: z.string().min(1) }),
      );
      return { formId: created.template_id };
    }
    await this.api
      .call(
        {
          operation: `update approval template "${formId}"`,
          method: 'POST',
          path: '/cgi-bin/oa/approval/update_template',
          body: { template_id: formId, ...content },
        },
        z.object({}),
      )
      .catch(error => {
        // update_template's 40058 names the template_id when WeCom has no such template.
        if (
          error instanceof ImApiError &&
          error.code === 40058 &&
          /template_id/.test(error.message)
        )
          throw new ImApiError('not_found', error.message, error.code);
        throw error;
      });
    this.templates.set(
      formId,
      spec.fields.map((label, index) => ({
        id: controlId(label, index),
        name: label,
        type: controlOf(label),
        required: false,
      })),
    );
    return { formId };
  }

  /** How the template differs from the spec: a field's control missing or renamed, or a required control the requests do not fill. */
  async formDrift(spec: ImFormSpec, formId: string): Promise<string[]> {
    const controls = await this.readTemplate(formId);
    const drift: string[] = [];
    spec.fields.forEach((label, index) => {
      const id = controlId(label, index);
      const control = controls.find(candidate => candidate.id === id);
      if (control && control.name !== label)
        drift.push(
          `field "${label}" (control ${id}) was renamed to "${control.name}" in WeCom`,
        );
      else if (!control && !controls.some(c => c.name === label))
        drift.push(
          `field "${label}" (control ${id}) is missing from WeCom template ${formId}`,
        );
    });
    for (const control of controls) {
      const filled =
        spec.fields.includes(control.name) ||
        spec.fields.some(
          (label, index) => controlId(label, index) === control.id,
        );
      if (control.required && !filled)
        drift.push(
          `WeCom template ${formId} has a required control "${control.name}" (${control.id}) that the template does not fill`,
        );
    }
    return drift;
  }

  async createInstance(request: ImInstanceRequest): Promise<ImInstanceRef> {
    const { body, labels } = await this.createBody(request);
    const created = await this.api.call(
      {
        operation: 'create an approval request',
        method: 'POST',
        path: '/cgi-bin/oa/applyevent',
        body,
      },
      z.object({ sp_no: z.string().min(1) }),
    );
    return { ...instanceRef(this.integration, created.sp_no), labels };
  }

  /**
   * WeCom has no idempotency key: lists the template's requests made by the creator since `since`
   * (`getapprovalinfo`) and answers the one whose `apply_data` is this request's (it names the run).
   */
  async findCreated(
    request: ImInstanceRequest,
    since: Date,
  ): Promise<ImInstanceRef[]> {
    const found: ImInstanceRef[] = [];
    const { body, labels } = await this.createBody(request);
    let cursor = '';
    for (let page = 0; page < FIND_PAGES; page++) {
      const list = await this.api.call(
        {
          operation: 'list approval requests',
          method: 'POST',
          path: '/cgi-bin/oa/getapprovalinfo',
          body: {
            starttime: String(Math.floor(since.getTime() / 1000)),
            endtime: String(Math.ceil(Date.now() / 1000) + 60),
            new_cursor: cursor,
            size: FIND_PAGE_SIZE,
            filters: [
              { key: 'template_id', value: request.form },
              { key: 'creator', value: body.creator_userid },
            ],
          },
        },
        approvalListSchema,
      );
      for (const spNo of list.sp_no_list) {
        const { info } = await this.detail(spNo);
        if (info.applyer?.userid && info.applyer.userid !== body.creator_userid)
          continue;
        const contents = info.apply_data?.contents ?? [];
        if (
          body.apply_data.contents.every(w =>
            contents.some(
              c => c.id === w.id && (c.value?.text ?? '') === w.value.text,
            ),
          )
        ) {
          found.push({ ...instanceRef(this.integration, spNo), labels });
        }
      }
      if (!list.new_next_cursor || list.sp_no_list.length === 0) break;
      cursor = list.new_next_cursor;
    }
    return found;
  }

  /**
   * applyevent's body: the template's controls filled, people resolved to user ids; and the titles
   * of the controls filled.
   */
  private async createBody(request: ImInstanceRequest) {
    const controls = await this.describeForm(request.form);
    const { filled, labels } = fillForm(
      controls,
      withContext(controls, request.fields, request.context ?? []),
      `WeCom template "${request.form}"`,
    );
    const contents = filled.map(({ imField, value }) => ({
      control: imField.type,
      id: imField.id,
      value: { text: value },
    }));
    const [[creator], cc, ...stages] = await Promise.all([
      this.users.resolve([request.initiator ?? this.integration.initiator]),
      this.users.resolve(request.cc ?? []),
      ...request.stages.map(stage => this.users.resolve(stage.approvers)),
    ]);
    const summary = summaryLines(request).map(summaryLine);
    const body = {
      creator_userid: creator,
      template_id: request.form,
      use_template_approver: 0,
      // One approver node (type 1) per stage, in order; apv_rel 1 all must approve, 2 any one.
      process: {
        node_list: [
          ...request.stages.map((stage, index) => ({
            type: 1,
            apv_rel: stage.rule === 'all' ? 1 : 2,
            userid: stages[index],
          })),
          // CC recipients (抄送) are a node of type 2: told and able to see, never asked to decide.
          ...(cc.length > 0 ? [{ type: 2, userid: [...new Set(cc)] }] : []),
        ],
      },
      apply_data: { contents },
      summary_list: summary.map(text => ({
        summary_info: [{ text, lang: 'zh_CN' }],
      })),
    };
    return { body, labels };
  }

  private detail(spNo: string) {
    return this.api.call(
      {
        operation: 'read an approval request',
        method: 'POST',
        path: '/cgi-bin/oa/getapprovaldetail',
        body: { sp_no: spNo },
      },
      detailSchema,
    );
  }

  findUsers(people: string[]): Promise<Array<string | undefined>> {
    return this.users.find(people);
  }

  async readInstance(spNo: string): Promise<ImInstanceState> {
    const { info } = await this.detail(spNo);
    const status = WECOM_SP_STATUS[info.sp_status];
    if (!status)
      throw new ImApiError(
        'unavailable',
        `WeCom approval ${spNo} has an unknown sp_status ${info.sp_status}`,
      );
    const nodes = nodesOf(info);
    const stages = await this.stagesOf(nodes, status === 'pending');
    const withStages = stages.length > 0 ? { stages } : {};
    if (status === 'pending') return { status, ...withStages };
    // Read once decided, for the decision's record (not on the reconciler's pending reads).
    const handovers = await this.handovers(nodes);
    const deciding = nodes
      .flatMap(node => node.approvers)
      .filter(
        d =>
          d.status !== undefined &&
          (WECOM_DECIDING_NODE_STATUS[status] ?? []).includes(d.status),
      )
      .sort((a, b) => (a.sptime ?? 0) - (b.sptime ?? 0))
      .at(-1);
    return {
      status,
      ...withStages,
      ...(handovers.length > 0 ? { handovers } : {}),
      decidedBy: deciding?.userid
        ? await this.people.person(deciding.userid)
        : undefined,
      comment: deciding?.speech || undefined,
      decidedAt: deciding?.sptime
        ? new Date(deciding.sptime * 1000)
        : new Date(),
    };
  }

  /**
   * Tasks handed on in WeCom (转审, sp_yj 4), in node order, with the speech given. The detail lists
   * the one it went to among the node's approvers but does not pair them: the decision names who
   * finally decided.
   */
  private handovers(nodes: DetailNode[]): Promise<ImHandover[]> {
    return Promise.all(
      nodes
        .flatMap(node => node.approvers)
        .filter(approver => approver.status === HANDED_ON && approver.userid)
        .map(async approver => ({
          kind: 'transferred' as const,
          from: await this.people.person(approver.userid!),
          to: [],
          ...(approver.speech ? { comment: approver.speech } : {}),
        })),
    );
  }

  /**
   * Each approver node's progress: decided by its sp_status; of the undecided ones, while the
   * request is pending, the first is the one asked now and the later ones wait for it.
   */
  private stagesOf(
    nodes: DetailNode[],
    pending: boolean,
  ): Promise<ImStageProgress[]> {
    const asked = pending
      ? nodes.findIndex(
          node =>
            !APPROVED.includes(node.status ?? 0) &&
            !REJECTED.includes(node.status ?? 0),
        )
      : -1;
    return Promise.all(
      nodes.map(async (node, index) => {
        let status: ImStageProgress['status'] = 'waiting';
        if (APPROVED.includes(node.status ?? 0)) status = 'approved';
        else if (REJECTED.includes(node.status ?? 0)) status = 'rejected';
        else if (index === asked) status = 'pending';
        const approvedBy = await Promise.all(
          node.approvers
            .filter(a => a.userid && APPROVED.includes(a.status ?? 0))
            .map(a => this.people.person(a.userid!)),
        );
        const waitingOn =
          status === 'pending'
            ? node.approvers
                .filter(a => a.userid && a.status === OPEN)
                .map(a => a.userid!)
            : [];
        return { status, approvedBy, waitingOn };
      }),
    );
  }

  namesOf(userIds: string[]) {
    return Promise.all(userIds.map(id => this.people.person(id)));
  }

  /**
   * An app message (应用消息) to these members, at most 1,000 a call: WeCom's text takes `<a>` links,
   * so the text is escaped and only the link is one. Members WeCom will not reach are an error
   * naming them (all of them unreachable is WeCom's own 81013).
   */
  async sendMessage(userIds: string[], text: string, url?: string) {
    const content = url
      ? `${escapeHtml(text)}\n<a href="${escapeHtml(url).replaceAll('"', '&quot;')}">${escapeHtml(url)}</a>`
      : escapeHtml(text);
    const unreached: string[] = [];
    for (let start = 0; start < userIds.length; start += MESSAGE_USERS) {
      const sent = await this.api.call(
        {
          operation: 'send an app message',
          method: 'POST',
          path: '/cgi-bin/message/send',
          body: {
            touser: userIds.slice(start, start + MESSAGE_USERS).join('|'),
            msgtype: 'text',
            agentid: this.integration.agentId,
            text: { content },
          },
        },
        z
          .object({
            invaliduser: z.string().optional(),
            unlicenseduser: z.string().optional(),
          })
          .loose(),
      );
      for (const list of [sent.invaliduser, sent.unlicenseduser])
        if (list) unreached.push(...list.split('|').filter(Boolean));
    }
    if (unreached.length > 0)
      throw new ImApiError(
        'invalid_request',
        `WeCom did not deliver to ${unreached.join(', ')}: check that each is a member inside app ${this.integration.agentId}'s visible range, with a licence`,
      );
  }

  /**
   * A textcard in one of the app's group chats (appchat/send: only chats the app created), linking
   * to the request: WeCom cannot let the app decide for an approver, and the card says so. WeCom
   * cannot edit a message either, so the card's id is its chat, where the outcome is told.
   */
  async postCard(chatId: string, card: ImCard) {
    const url = card.instanceUrl ?? card.approvalUrl;
    await this.sendToChat(
      chatId,
      url
        ? { msgtype: 'textcard', textcard: wecomTextcard(card, url) }
        : { msgtype: 'text', text: { content: wecomOutcomeText(card) } },
    );
    return chatId;
  }

  /** Tells the chat how the request ended; a pending request's progress is not retold. */
  async updateCard(chatId: string, card: ImCard) {
    if (card.state === 'pending') return;
    await this.sendToChat(chatId, {
      msgtype: 'text',
      text: { content: wecomOutcomeText(card) },
    });
  }

  private async sendToChat(chatId: string, message: object) {
    await this.api.call(
      {
        operation: 'send to a group chat',
        method: 'POST',
        path: '/cgi-bin/appchat/send',
        body: { chatid: chatId, ...message },
      },
      z.object({}).loose(),
    );
  }

  /** WeCom has no API to revoke a request made through the Approval app. */
  async cancelInstance() {
    return {
      revoked: false,
      message:
        'WeCom offers no API to revoke an approval request; the approver may still see it until it is withdrawn in WeCom',
    };
  }

  async handleCallback(request: ImCallbackRequest) {
    if (!this.callbacks) {
      rejectCallback(
        400,
        `WeCom integration "${this.integration.id}" takes no HTTP callbacks (connection mode ${this.integration.connectionMode}, no callback token and encodingAESKey)`,
      );
    }
    return this.callbacks.verify(request, {
      now: new Date(),
      maxAgeSeconds: this.deps.callbackMaxAgeSeconds,
    });
  }

  /**
   * WeCom looks people up one at a time, by mobile or by email. An email is looked up as a WeCom
   * Mail address (email_type 1), then, not found there, as the member's own email field
   * (email_type 2): tenants without WeCom Mail only have the latter. Both answers, misses too,
   * are cached by the resolver, since many misses get the API blocked for a day.
   */
  private async lookUpUser({
    kind,
    value,
  }: {
    kind: ContactKind;
    value: string;
  }) {
    if (kind === 'mobile') {
      const { userid } = await this.api.call(
        {
          operation: 'look up a user by mobile',
          method: 'POST',
          path: '/cgi-bin/user/getuserid',
          body: { mobile: bareMobile(value) },
        },
        userIdSchema,
      );
      return userid;
    }
    for (const emailType of [WECOM_MAIL, MEMBER_EMAIL]) {
      try {
        const { userid } = await this.api.call(
          {
            operation: `look up a user by ${emailType === WECOM_MAIL ? 'WeCom Mail address' : 'email'}`,
            method: 'POST',
            path: '/cgi-bin/user/get_userid_by_email',
            body: { email: value, email_type: emailType },
          },
          userIdSchema,
        );
        return userid;
      } catch (error) {
        if (!(error instanceof ImApiError && error.kind === 'not_found'))
          throw error;
      }
    }
    return undefined;
  }
}
