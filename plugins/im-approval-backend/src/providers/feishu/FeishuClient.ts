import type { FeishuIntegration } from '@im-approval/plugin-im-approval-common';
import {
  ImApiError,
  type ImCallbackRequest,
  type ImCard,
  type ImClient,
  type ImConnectionObserver,
  type ImEventHandler,
  type ImFormField,
  type ImFormSpec,
  type ImHandover,
  type ImInstanceRequest,
  type ImInstanceState,
  type ImProviderDeps,
  type ImSavedForm,
  type ImStage,
  type ImStageProgress,
} from '@im-approval/plugin-im-approval-node';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { fillForm, withContext } from '../formFields';
import { instanceRef } from '../instanceRef';
import { FeishuApi } from './FeishuApi';
import { parseFeishuCallback, parseFeishuCardCallback } from './feishuCallback';
import { feishuCard } from './feishuCard';
import {
  feishuDefinitionRequest,
  feishuFormDrift,
  feishuI18n,
} from './feishuForm';
import { openFeishuLongConnection } from './feishuLongConnection';
import {
  DECIDING_TIMELINE_TYPES,
  FEISHU_HANDOVER_TYPES,
  FEISHU_INSTANCE_STATUS,
} from './feishuStatus';
import { PersonNames } from '../api/PersonNames';
import { TtlCache } from '../api/TtlCache';
import { UserIdResolver, type ContactKind } from '../api/UserIdResolver';

const DEFINITION_TTL_MS = 5 * 60_000;

/** Instance create: the uuid already created an instance; Feishu does not say which (im-protocols.md 1.3). */
export const FEISHU_UUID_CONFLICT = 60012;
/** The key of the instance title: Feishu takes a title only as an i18n key starting with @i18n@. */
export const FEISHU_TITLE_KEY = '@i18n@title';

/**
 * The title as Feishu takes it: an i18n key, with its text in the default locale (Chinese on
 * Feishu, English on Lark) and, so every reader sees it, in the other locales too.
 */
export function feishuTitle(title: string, domain: 'feishu' | 'lark') {
  return {
    title: FEISHU_TITLE_KEY,
    i18n_resources: feishuI18n(domain, { [FEISHU_TITLE_KEY]: title }),
  };
}

/** The definition's `form` is a JSON string of widgets; parsed once, when the definition is read. */
const formSchema = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'the form is not JSON' });
      return z.NEVER;
    }
  })
  .pipe(
    z.array(
      z.object({
        id: z.string(),
        name: z.string().optional().default(''),
        type: z.string(),
        required: z.boolean().optional().default(false),
      }),
    ),
  );

const definitionSchema = z.object({
  approval_name: z.string(),
  status: z.string().optional(),
  form: formSchema,
  node_list: z.array(
    z.object({
      name: z.string().optional().default(''),
      node_id: z.string(),
      custom_node_id: z.string().optional(),
      node_type: z.string().optional(),
      need_approver: z.boolean().optional(),
      /** false: the initiator may choose only one approver for the node. */
      approver_chosen_multi: z.boolean().optional(),
    }),
  ),
});
type Definition = z.output<typeof definitionSchema>;

const instanceSchema = z.object({
  approval_code: z.string(),
  instance_code: z.string().optional(),
  status: z.string(),
  open_id: z.string().optional(),
  task_list: z
    .array(
      z.object({
        id: z.string().optional(),
        open_id: z.string().optional(),
        user_id: z.string().optional(),
        status: z.string(),
        node_id: z.string().optional(),
        custom_node_id: z.string().optional(),
      }),
    )
    .optional()
    .default([]),
  timeline: z
    .array(
      z.object({
        type: z.string(),
        open_id: z.string().optional(),
        /** Whom a TRANSFER handed the task to, or an ADD_APPROVER* added. */
        open_id_list: z.array(z.string()).optional(),
        comment: z.string().optional(),
        create_time: z.string().optional(),
      }),
    )
    .optional()
    .default([]),
});
type Instance = z.infer<typeof instanceSchema>;

const userIdsSchema = z.object({
  user_list: z
    .array(
      z.object({
        user_id: z.string().optional(),
        email: z.string().optional(),
        mobile: z.string().optional(),
      }),
    )
    .optional()
    .default([]),
});
const userSchema = z.object({
  user: z.object({
    name: z.string().optional(),
    /** Only for an app with contact:user.employee_id:readonly. */
    user_id: z.string().optional(),
  }),
});

/** The approver mode a Feishu node's type fixes: AND (all must approve), OR (any one may); none for other types. */
function approverModeOfNode(
  nodeType: string | undefined,
): 'all' | 'any' | undefined {
  if (nodeType === 'AND') return 'all';
  if (nodeType === 'OR') return 'any';
  return undefined;
}

const plural = (count: number, noun: string) =>
  `${count} ${noun}${count === 1 ? '' : 's'}`;
const nodeName = (node: Definition['node_list'][number]) =>
  `"${node.name || node.node_id}"`;

/** Whether a node fits its stage: its AND/OR, and how many approvers it takes. */
function checkStage(
  form: string,
  node: Definition['node_list'][number],
  stage: ImStage,
  index: number,
  stageCount: number,
) {
  // A plain template's one stage is its approvers and approverMode; stages are named by number.
  const single = stageCount === 1;
  const approval = `Feishu approval "${form}"`;
  const which = single
    ? 'The template'
    : `Stage ${index + 1}${stage.name ? ` ("${stage.name}")` : ''}`;
  const nodeMode = approverModeOfNode(node.node_type);
  // One approver decides alike under AND and OR (each request of a counting stage asks one).
  if (nodeMode && nodeMode !== stage.rule && stage.approvers.length > 1) {
    const fix = single
      ? `the template's approverMode (or its stage's rule) to ${nodeMode}`
      : `stage ${index + 1}'s rule to ${nodeMode}`;
    throw new ImApiError(
      'invalid_request',
      `${which} asks for ${stage.rule} approvers, but ${approval} node ${nodeName(node)} is ${node.node_type} ` +
        `(${nodeMode} must approve); change the node in Feishu or set ${fix}`,
    );
  }
  if (node.approver_chosen_multi === false && stage.approvers.length > 1) {
    throw new ImApiError(
      'invalid_request',
      `Feishu approval definition "${form}"'s node ${nodeName(node)} takes one approver; ${single ? 'the template' : `stage ${index + 1}`} lists ${stage.approvers.length} ` +
        `(${stage.approvers.join(', ')}); list one approver, or allow several in the node's settings in Feishu`,
    );
  }
}

/**
 * A stage from its node's tasks: waiting until it has any; rejected once one is; pending while one
 * is open; approved when one approval settles an OR node or all of an AND node's tasks approved.
 * Tasks closed otherwise (the instance was canceled) leave it pending: it was reached, not decided.
 */
function stageStatus(
  nodeType: string | undefined,
  tasks: Array<{ status: string }>,
): ImStageProgress['status'] {
  if (tasks.length === 0) return 'waiting';
  const statuses = tasks.map(task => task.status);
  if (statuses.includes('REJECTED')) return 'rejected';
  if (statuses.includes('PENDING')) return 'pending';
  const approved =
    nodeType === 'OR'
      ? statuses.includes('APPROVED')
      : statuses.every(status => status === 'APPROVED');
  return approved ? 'approved' : 'pending';
}

/** add_sign_type 3: the added approve beside the task's approver (并加签), as one more of the node. */
const ADD_SIGN_BESIDE = 3;

export class FeishuClient implements ImClient {
  private readonly api: FeishuApi;
  private readonly definitions = new TtlCache<Definition>(DEFINITION_TTL_MS);
  private readonly users: UserIdResolver;
  private readonly people: PersonNames;
  private readonly subscribed = new Set<string>();

  constructor(
    private readonly integration: FeishuIntegration,
    private readonly deps: ImProviderDeps,
  ) {
    this.api = new FeishuApi(integration, deps.logger, deps.keepToRateLimits);
    this.people = new PersonNames(
      async openId => (await this.user(openId)).name,
    );
    this.users = new UserIdResolver(
      contacts => this.lookUpUsers(contacts),
      (kind, value) =>
        `No Feishu user with ${kind} ${value} is visible to app ${integration.appId}; ` +
        "check the spelling and that the person is inside the app's contact scope",
    );
  }

  verifyCredentials() {
    return this.api.verifyCredentials();
  }

  async describeForm(formId: string): Promise<ImFormField[]> {
    return (await this.definition(formId)).form;
  }

  /**
   * Whether a template fits the approval definition, before any instance is asked for: stage i goes
   * to the i-th node whose approvers are chosen per request, so there must be one such node per
   * stage, each AND for `all` or OR for `any`, and one that takes a single approver must not be
   * given several. Throws `invalid_request` with the reason; template checks call it on save and
   * createInstance always does.
   */
  async checkTemplate(template: Pick<ImInstanceRequest, 'form' | 'stages'>) {
    return this.approverNodes(await this.definition(template.form), template);
  }

  private approverNodes(
    definition: Definition,
    request: Pick<ImInstanceRequest, 'form' | 'stages'>,
  ) {
    const approval = `Feishu approval "${request.form}"`;
    const nodes = definition.node_list.filter(n => n.need_approver);
    if (nodes.length === 0) {
      throw new ImApiError(
        'invalid_request',
        `${approval} has no node whose approvers are chosen per request; add one (approvers: chosen by the initiator)`,
      );
    }
    const { stages } = request;
    if (nodes.length !== stages.length) {
      throw new ImApiError(
        'invalid_request',
        `The template has ${plural(stages.length, 'stage')}, but ${approval} has ${plural(nodes.length, 'node')} whose approvers are chosen per request ` +
          `(${nodes.map(nodeName).join(', ')}); give the template one stage per such node, in their order, or change the approval in Feishu`,
      );
    }
    stages.forEach((stage, index) =>
      checkStage(request.form, nodes[index], stage, index, stages.length),
    );
    return nodes;
  }

  async createInstance(request: ImInstanceRequest) {
    const definition = await this.definition(request.form);
    const nodes = this.approverNodes(definition, request);
    const { filled, labels } = fillForm(
      definition.form,
      withContext(definition.form, request.fields, request.context ?? []),
      `Feishu approval "${request.form}"`,
    );
    const form = filled.map(({ imField, value }) => ({
      id: imField.id,
      type: imField.type,
      value,
    }));
    // CC recipients are resolved with the approvers, so one Feishu does not know fails the create.
    const [initiator, approvers, cc] = await Promise.all([
      this.users
        .resolve([request.initiator ?? this.integration.initiator])
        .then(ids => ids[0]),
      this.users.resolve(request.stages.flatMap(stage => stage.approvers)),
      this.users.resolve(request.cc ?? []),
      this.subscribe(request.form),
    ]);
    let next = 0;
    const nodeApprovers = nodes.map((node, index) => {
      const count = request.stages[index].approvers.length;
      next += count;
      return {
        key: node.custom_node_id || node.node_id,
        value: approvers.slice(next - count, next),
      };
    });
    const uuid = request.approvalId;
    try {
      const created = await this.api.call(
        {
          operation: 'create an approval instance',
          method: 'POST',
          path: '/open-apis/approval/v4/instances',
          body: {
            approval_code: request.form,
            open_id: initiator,
            form: JSON.stringify(form),
            node_approver_open_id_list: nodeApprovers,
            uuid,
            ...feishuTitle(request.title, this.integration.domain),
          },
        },
        z.object({ instance_code: z.string().min(1) }),
      );
      const notes = await this.carbonCopy(
        { approvalCode: request.form, instanceCode: created.instance_code },
        initiator,
        cc,
      );
      return {
        ...instanceRef(this.integration, created.instance_code),
        labels,
        ...(notes.length > 0 ? { notes } : {}),
      };
    } catch (error) {
      if (!(error instanceof ImApiError)) throw error;
      // A repeated uuid fails with 60012: the instance exists, made by an earlier try whose answer
      // was lost. A lost answer (network, timeout, 5xx) may also hide a made instance. Either way
      // the one instance of this uuid is the answer; it is never created twice.
      if (error.code !== FEISHU_UUID_CONFLICT && !error.transient) throw error;
      const existing = await this.instanceByUuid(uuid, request.form, error);
      if (!existing) throw error;
      const instanceCode = existing.instance_code!;
      // The try that made it may have been cut off before its CC.
      const told = existing.timeline.some(entry => entry.type === 'CC');
      const notes = told
        ? []
        : await this.carbonCopy(
            { approvalCode: request.form, instanceCode },
            initiator,
            cc,
          );
      return {
        ...instanceRef(this.integration, instanceCode),
        labels,
        ...(notes.length > 0 ? { notes } : {}),
      };
    }
  }

  /**
   * Tells CC recipients through Feishu's instance CC, which works with any definition (a create's
   * node_cc list needs a CC node the initiator fills). A transient failure is thrown, so the create
   * is tried again and finds its instance by uuid; a refusal leaves the instance standing and says
   * so, since nobody decides by being told.
   */
  private async carbonCopy(
    instance: { approvalCode: string; instanceCode: string },
    initiator: string,
    cc: string[],
  ): Promise<string[]> {
    if (cc.length === 0) return [];
    try {
      await this.api.call(
        {
          operation: 'CC an approval instance',
          method: 'POST',
          path: '/open-apis/approval/v4/instances/cc',
          query: { user_id_type: 'open_id' },
          body: {
            approval_code: instance.approvalCode,
            instance_code: instance.instanceCode,
            user_id: initiator,
            cc_user_ids: [...new Set(cc)],
          },
        },
        z.unknown(),
      );
      return [];
    } catch (error) {
      if (error instanceof ImApiError && !error.transient)
        return [
          `CC recipients were not told: ${error.message}; check that each is a user inside the app's contact scope, and that the app has the approval:instance scope`,
        ];
      throw error;
    }
  }

  /**
   * The instance created with `uuid`, its code known (Feishu's instance read takes the creation uuid in
   * place of the code). After a 60012 it must exist: while it cannot be read the create stays a
   * transient failure, tried again later. After a lost answer it may not: then undefined, and the
   * create's own transient error stands.
   */
  private async instanceByUuid(
    uuid: string,
    approvalCode: string,
    createError: ImApiError,
  ): Promise<Instance | undefined> {
    const conflict = createError.code === FEISHU_UUID_CONFLICT;
    let instance: Instance;
    try {
      instance = await this.instance(uuid);
    } catch (error) {
      if (!conflict) return undefined;
      throw new ImApiError(
        'unavailable',
        `Feishu refused uuid ${uuid} as already used (code ${FEISHU_UUID_CONFLICT}), and its instance could not be read yet: ${(error as Error).message}`,
        FEISHU_UUID_CONFLICT,
      );
    }
    if (instance.approval_code !== approvalCode || !instance.instance_code) {
      throw new ImApiError(
        'invalid_request',
        `uuid ${uuid} already names Feishu instance ${instance.instance_code ?? '(no code)'} of approval "${instance.approval_code}", not one of "${approvalCode}"`,
        FEISHU_UUID_CONFLICT,
      );
    }
    this.deps.logger.info(
      `Feishu instance ${instance.instance_code} had already been created with uuid ${uuid}; using it`,
    );
    return instance;
  }

  findUsers(people: string[]): Promise<Array<string | undefined>> {
    return this.users.find(people);
  }

  async readInstance(instanceId: string): Promise<ImInstanceState> {
    const instance = await this.instance(instanceId);
    const status = FEISHU_INSTANCE_STATUS[instance.status];
    if (!status) {
      throw new ImApiError(
        'unavailable',
        `Feishu instance ${instanceId} has an unknown status "${instance.status}"`,
      );
    }
    const stages = await this.stageProgress(instance);
    if (status === 'pending') return { status, ...(stages ? { stages } : {}) };
    // Read once decided, for the decision's record: the reconciler's reads of pending instances
    // would look people up for nothing.
    const handovers = await this.handovers(instance);
    const progress = {
      ...(stages ? { stages } : {}),
      ...(handovers.length > 0 ? { handovers } : {}),
    };
    const deciding = instance.timeline
      .filter(entry => DECIDING_TIMELINE_TYPES[status].includes(entry.type))
      .at(-1);
    return {
      status,
      ...progress,
      decidedBy: deciding?.open_id
        ? await this.people.person(deciding.open_id)
        : undefined,
      comment: deciding?.comment || undefined,
      decidedAt: deciding?.create_time
        ? new Date(Number(deciding.create_time))
        : new Date(),
    };
  }

  /** Tasks handed on (TRANSFER) and approvers added (ADD_APPROVER*) in Feishu, oldest first. */
  private async handovers(instance: Instance): Promise<ImHandover[]> {
    const handovers: ImHandover[] = [];
    for (const entry of instance.timeline) {
      const kind = FEISHU_HANDOVER_TYPES.get(entry.type);
      if (!kind || !entry.open_id_list?.length) continue;
      handovers.push({
        kind,
        ...(entry.open_id
          ? { from: await this.people.person(entry.open_id) }
          : {}),
        to: await Promise.all(
          entry.open_id_list.map(openId => this.people.person(openId)),
        ),
        ...(entry.create_time
          ? { at: new Date(Number(entry.create_time)) }
          : {}),
        ...(entry.comment ? { comment: entry.comment } : {}),
      });
    }
    return handovers;
  }

  /**
   * Each stage's progress from the instance's tasks, node by node in the definition's order (a
   * node has tasks once it is reached). Absent when Feishu lists no tasks.
   */
  private async stageProgress(
    instance: Instance,
  ): Promise<ImStageProgress[] | undefined> {
    if (instance.task_list.length === 0) return undefined;
    const definition = await this.definition(instance.approval_code);
    return Promise.all(
      definition.node_list
        .filter(node => node.need_approver)
        .map(async node => {
          const tasks = instance.task_list.filter(
            task =>
              task.node_id === node.node_id ||
              (node.custom_node_id !== undefined &&
                task.custom_node_id === node.custom_node_id),
          );
          const approvedBy = await Promise.all(
            tasks
              .filter(task => task.status === 'APPROVED' && task.open_id)
              .map(task => this.people.person(task.open_id!)),
          );
          const waitingOn = tasks
            .filter(task => task.status === 'PENDING' && task.open_id)
            .map(task => task.open_id!);
          return {
            status: stageStatus(node.node_type, tasks),
            approvedBy,
            waitingOn,
          };
        }),
    );
  }

  /**
   * Creates the approval definition (no `formId`) or overwrites it in place, keeping its code; then
   * reads it back, so instances are made against the definition as saved.
   */
  async saveForm(spec: ImFormSpec, formId?: string): Promise<ImSavedForm> {
    const saved = await this.api.call(
      {
        operation: formId
          ? `update approval definition "${formId}"`
          : `create approval definition "${spec.name}"`,
        method: 'POST',
        path: '/open-apis/approval/v4/approvals',
        query: { user_id_type: 'open_id' },
        body: feishuDefinitionRequest(spec, this.integration.domain, formId),
      },
      z.object({ approval_code: z.string().min(1) }),
    );
    await this.definition(saved.approval_code, { fresh: true });
    return { formId: saved.approval_code };
  }

  async formDrift(spec: ImFormSpec, formId: string): Promise<string[]> {
    // Read afresh: drift is someone's edit in the console since the last read.
    const definition = await this.definition(formId, { fresh: true });
    return feishuFormDrift(spec, formId, definition);
  }

  async cancelInstance(instanceId: string) {
    const instance = await this.instance(instanceId);
    if (instance.status !== 'PENDING') {
      return {
        revoked: false,
        message: `the Feishu instance is already ${instance.status}`,
      };
    }
    try {
      await this.api.call(
        {
          operation: 'revoke an approval instance',
          method: 'POST',
          path: '/open-apis/approval/v4/instances/cancel',
          query: { user_id_type: 'open_id' },
          body: {
            approval_code: instance.approval_code,
            instance_code: instanceId,
            user_id: instance.open_id,
          },
        },
        z.unknown(),
      );
      return { revoked: true };
    } catch (error) {
      if (error instanceof ImApiError && !error.transient) {
        return {
          revoked: false,
          message: `could not revoke: ${error.message} (the approval definition may not allow revoking pending requests)`,
        };
      }
      throw error;
    }
  }

  async handleCardCallback(request: ImCallbackRequest) {
    return parseFeishuCardCallback(request, this.integration, {
      now: new Date(),
      maxAgeSeconds: this.deps.callbackMaxAgeSeconds,
    });
  }

  /** A shared card from the app's bot in the chat (the bot must be in it); its uuid posts it once. */
  async postCard(chatId: string, card: ImCard) {
    const sent = await this.api.call(
      {
        operation: 'post a card to a group chat',
        method: 'POST',
        path: '/open-apis/im/v1/messages',
        query: { receive_id_type: 'chat_id' },
        body: {
          receive_id: chatId,
          msg_type: 'interactive',
          content: JSON.stringify(feishuCard(card)),
          uuid: `card-${card.approvalId}`,
        },
      },
      z.object({ message_id: z.string().min(1) }).loose(),
    );
    return sent.message_id;
  }

  async updateCard(cardId: string, card: ImCard) {
    await this.api.call(
      {
        operation: 'update a card',
        method: 'PATCH',
        path: `/open-apis/im/v1/messages/${encodeURIComponent(cardId)}`,
        body: { content: JSON.stringify(feishuCard(card)) },
      },
      z.unknown(),
    );
  }

  /** Approves or rejects the approver's own pending task, as them (tasks/approve, tasks/reject). */
  async decideTask(
    instanceId: string,
    approverId: string,
    action: 'approve' | 'reject',
    comment?: string,
  ) {
    const instance = await this.instance(instanceId);
    const task = instance.task_list.find(
      candidate =>
        candidate.status === 'PENDING' &&
        candidate.open_id === approverId &&
        candidate.id,
    );
    if (!task)
      throw new ImApiError(
        'invalid_request',
        'you have no task waiting on this request in Feishu (it may be decided, or handed on)',
      );
    await this.api.call(
      {
        operation: `${action} an approval task`,
        method: 'POST',
        path: `/open-apis/approval/v4/tasks/${action}`,
        query: { user_id_type: 'open_id' },
        body: {
          approval_code: instance.approval_code,
          instance_code: instanceId,
          user_id: approverId,
          task_id: task.id,
          ...(comment && { comment }),
        },
      },
      z.unknown(),
    );
  }

  async handleCallback(request: ImCallbackRequest) {
    return parseFeishuCallback(request, this.integration, {
      now: new Date(),
      maxAgeSeconds: this.deps.callbackMaxAgeSeconds,
    });
  }

  connect(onEvents: ImEventHandler, observer: ImConnectionObserver) {
    return openFeishuLongConnection(
      this.integration,
      this.deps.logger,
      onEvents,
      observer,
    );
  }

  /**
   * Adds approvers beside the approver of a pending task (add sign, 并加签), so each gets a task of
   * the node: add sign names people by user_id, which the instance read and the contact API give.
   * People who already have a pending task are not added again.
   */
  async addApprovers(
    instanceId: string,
    approverIds: string[],
    comment?: string,
  ) {
    const instance = await this.instance(instanceId);
    const pending = instance.task_list.filter(
      task => task.status === 'PENDING',
    );
    const task = pending.find(candidate => candidate.id && candidate.user_id);
    if (!task)
      throw new ImApiError(
        'invalid_request',
        `Feishu instance ${instanceId} has no pending task to add approvers to`,
      );
    const asked = new Set(pending.map(candidate => candidate.open_id));
    const added = [...new Set(approverIds)].filter(id => !asked.has(id));
    if (added.length === 0) return;
    await this.api.call(
      {
        operation: 'add approvers to an approval task',
        method: 'POST',
        path: '/open-apis/approval/v4/instances/add_sign',
        body: {
          approval_code: instance.approval_code,
          instance_code: instanceId,
          user_id: task.user_id,
          task_id: task.id,
          ...(comment && { comment }),
          add_sign_user_ids: await Promise.all(
            added.map(id => this.userIdOf(id)),
          ),
          add_sign_type: ADD_SIGN_BESIDE,
        },
      },
      z.unknown(),
    );
  }

  namesOf(userIds: string[]) {
    return Promise.all(userIds.map(id => this.people.person(id)));
  }

  /**
   * A rich-text message from the app's bot to each person, one call each (Feishu takes one
   * recipient a call): the text as text nodes, never parsed for mentions or styles, and the link as
   * a link node. Its uuid makes a repeat within Feishu's hour a no-op.
   */
  async sendMessage(userIds: string[], text: string, url?: string) {
    const paragraphs = [
      [{ tag: 'text', text }],
      ...(url ? [[{ tag: 'a', text: url, href: url }]] : []),
    ];
    const content = JSON.stringify({ zh_cn: { content: paragraphs } });
    for (const userId of new Set(userIds))
      await this.post('send a message', 'open_id', userId, content);
  }

  /** A post in the chat that mentions each person (`at` by open_id) before the text, which is never parsed. */
  async remindInChat(chatId: string, userIds: string[], text: string) {
    const mentions = [...new Set(userIds)].map(userId => ({
      tag: 'at',
      user_id: userId,
    }));
    const content = JSON.stringify({
      zh_cn: { content: [[...mentions, { tag: 'text', text: ` ${text}` }]] },
    });
    await this.post('remind in a group chat', 'chat_id', chatId, content);
  }

  /** A rich-text message from the app's bot; its uuid (from recipient and content) sends it once. */
  private async post(
    operation: string,
    receiveIdType: 'open_id' | 'chat_id',
    receiveId: string,
    content: string,
  ) {
    await this.api.call(
      {
        operation,
        method: 'POST',
        path: '/open-apis/im/v1/messages',
        query: { receive_id_type: receiveIdType },
        body: {
          receive_id: receiveId,
          msg_type: 'post',
          content,
          uuid: createHash('sha256')
            .update(`${receiveId}\n${content}`)
            .digest('hex')
            .slice(0, 50),
        },
      },
      z.object({ message_id: z.string() }).loose(),
    );
  }

  /** The user_id of an open_id, which only an app with the employee id scope is told. */
  private async userIdOf(openId: string): Promise<string> {
    const user = await this.user(openId);
    if (!user.user_id)
      throw new ImApiError(
        'permission',
        `Feishu does not tell app ${this.integration.appId} the user_id of ${openId}, which adding approvers needs: grant it the scope contact:user.employee_id:readonly and publish a new app version`,
      );
    return user.user_id;
  }

  private async user(openId: string) {
    const { user } = await this.api.call(
      {
        operation: 'read a user',
        method: 'GET',
        path: `/open-apis/contact/v3/users/${encodeURIComponent(openId)}`,
        query: { user_id_type: 'open_id' },
      },
      userSchema,
    );
    return user;
  }

  private instance(instanceId: string): Promise<Instance> {
    return this.api.call(
      {
        operation: 'read an approval instance',
        method: 'GET',
        path: `/open-apis/approval/v4/instances/${encodeURIComponent(instanceId)}`,
      },
      instanceSchema,
    );
  }

  private async definition(
    code: string,
    { fresh = false } = {},
  ): Promise<Definition> {
    const load = () =>
      this.api.call(
        {
          operation: `read approval definition "${code}"`,
          method: 'GET',
          path: `/open-apis/approval/v4/approvals/${encodeURIComponent(code)}`,
        },
        definitionSchema,
      );
    if (!fresh) return this.definitions.getOrLoad(code, load);
    const definition = await load();
    this.definitions.set(code, definition);
    return definition;
  }

  /** Events for an approval reach the app only after it subscribed to that approval_code. */
  private async subscribe(code: string) {
    if (this.subscribed.has(code)) return;
    try {
      await this.api.call(
        {
          operation: `subscribe to approval "${code}"`,
          method: 'POST',
          path: `/open-apis/approval/v4/approvals/${encodeURIComponent(code)}/subscribe`,
        },
        z.unknown(),
      );
    } catch (error) {
      // Feishu answers 1390007 when the app is already subscribed.
      if (!(error instanceof ImApiError && error.code === 1390007)) throw error;
    }
    this.subscribed.add(code);
  }

  /** Emails and mobiles looked up in one call. */
  private async lookUpUsers(
    contacts: Array<{ kind: ContactKind; value: string }>,
  ) {
    const found = await this.api.call(
      {
        operation: 'look up users by email or mobile',
        method: 'POST',
        path: '/open-apis/contact/v3/users/batch_get_id',
        query: { user_id_type: 'open_id' },
        body: {
          emails: contacts.filter(c => c.kind === 'email').map(c => c.value),
          mobiles: contacts.filter(c => c.kind === 'mobile').map(c => c.value),
        },
      },
      userIdsSchema,
    );
    return new Map(
      found.user_list.flatMap(user =>
        user.user_id && (user.email ?? user.mobile)
          ? [[(user.email ?? user.mobile)!, user.user_id]]
          : [],
      ),
    );
  }
}
