import type { DingtalkIntegration } from '@im-approval/plugin-im-approval-common';
import {
  ImApiError,
  type ImCallbackRequest,
  type ImCard,
  type ImCardClickHandler,
  type ImClient,
  type ImConnectionObserver,
  type ImEventHandler,
  type ImFormField,
  type ImFormSpec,
  type ImHandover,
  type ImInstanceRef,
  type ImInstanceRequest,
  type ImInstanceState,
  type ImProviderDeps,
  type ImSavedForm,
  type ImStage,
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
import { fillForm, withContext } from '../formFields';
import { instanceRef } from '../instanceRef';
import { DingtalkApi } from './DingtalkApi';
import { DingtalkCallbackVerifier } from './dingtalkCallback';
import { dingtalkCardData, dingtalkOutTrackId } from './dingtalkCard';
import {
  checkDingtalkStages,
  dingtalkFormBody,
  dingtalkFormDrift,
  type DingtalkTask,
  savedFields,
  stepStatuses,
  tasksBySteps,
  usersOf,
} from './dingtalkForm';
import {
  DINGTALK_DECIDING_RECORD,
  dingtalkInstanceStatus,
} from './dingtalkStatus';
import { openDingtalkStream } from './dingtalkStream';

const FORM_TTL_MS = 5 * 60_000;

/** The operation records of a task handed on (转交) or of approvers added to a step (前/后加签). */
const DINGTALK_HANDOVER_RECORDS: Record<string, ImHandover['kind']> = {
  REDIRECT_TASK: 'transferred',
  APPEND_TASK_BEFORE: 'added',
  APPEND_TASK_AFTER: 'added',
};

const formSchema = z.object({
  result: z.object({
    schemaContent: z.object({
      items: z.array(
        z.object({
          componentName: z.string(),
          props: z.looseObject({
            id: z.string().optional(),
            label: z.string().optional(),
            required: z.boolean().optional(),
          }),
        }),
      ),
    }),
  }),
});

const instanceSchema = z.object({
  result: z.object({
    status: z.string(),
    result: z.string().optional(),
    originatorUserId: z.string().optional(),
    formComponentValues: z
      .array(
        z.object({
          id: z.string().optional(),
          name: z.string().optional(),
          value: z.string().nullish(),
        }),
      )
      .optional()
      .default([]),
    operationRecords: z
      .array(
        z.object({
          userId: z.string().optional(),
          date: z.string().optional(),
          type: z.string().optional(),
          result: z.string().optional(),
          remark: z.string().optional(),
        }),
      )
      .optional()
      .default([]),
    tasks: z
      .array(
        z.object({
          taskId: z.union([z.number(), z.string()]).optional(),
          userId: z.string().optional(),
          status: z.string().optional(),
          result: z.string().optional(),
          activityId: z.string().optional(),
        }),
      )
      .optional()
      .default([]),
  }),
});

const instanceIdsSchema = z.object({
  result: z.object({
    list: z.array(z.string()).optional().default([]),
    nextToken: z.union([z.number(), z.string()]).nullish(),
  }),
});
/** The list call answers at most 20 ids a page; an earlier attempt is among the newest few. */
const FIND_PAGE_SIZE = 20;
const FIND_PAGES = 5;

const userSchema = z.object({
  result: z.object({
    userid: z.string().optional(),
    name: z.string().optional(),
  }),
});

/** A date to the minute, as the new API writes them: "2024-05-01T08:30Z". */
const MINUTE_DATE = /T\d\d:\d\d(Z|[+-]\d\d:?\d\d)?$/;

/**
 * When a decision was made, from the operation record's `date` and the moment the backend learned
 * of it. The new API's dates are to the minute: the decision fell within that minute and no later
 * than now, so it is now, or the minute's last instant when learned later — never the minute's
 * start, which would put most decisions before the request. A date with seconds is DingTalk's own.
 */
export function dingtalkDecidedAt(
  date: string | undefined,
  learnedAt: Date,
): Date {
  const parsed = date ? new Date(date) : undefined;
  if (!date || !parsed || Number.isNaN(parsed.getTime())) return learnedAt;
  if (!MINUTE_DATE.test(date)) return parsed;
  const minuteEnd = parsed.getTime() + 59_999;
  return learnedAt.getTime() < minuteEnd ? learnedAt : new Date(minuteEnd);
}

/** DingTalk's actionType for a step's approvers: NONE for one person, AND when all must approve, OR when any one may. */
function approversActionType(
  count: number,
  rule: ImStage['rule'],
): 'NONE' | 'AND' | 'OR' {
  if (count === 1) return 'NONE';
  return rule === 'all' ? 'AND' : 'OR';
}

/** One DingTalk app (an "H5 micro app" with OA approval permissions). */
/** People one work notice may go to ("userid_list 最大长度100"). */
const WORK_NOTICE_USERS = 100;

export class DingtalkClient implements ImClient {
  private readonly api: DingtalkApi;
  private readonly forms = new TtlCache<ImFormField[]>(FORM_TTL_MS);
  private readonly people: PersonNames;
  private readonly users: UserIdResolver;
  private readonly callbacks?: DingtalkCallbackVerifier;

  constructor(
    private readonly integration: DingtalkIntegration,
    private readonly deps: ImProviderDeps,
  ) {
    this.api = new DingtalkApi(integration, deps.logger, deps.keepToRateLimits);
    this.users = new UserIdResolver(
      oneByOne(contact => this.lookUpUser(contact)),
      (kind, value) =>
        kind === 'email'
          ? `DingTalk cannot look people up by email (${value}); list the person's DingTalk user id or mobile instead`
          : `No DingTalk user with ${kind} ${value} is visible to app ${integration.appKey}; ` +
            "check the number, that the person is inside the app's contact scope, and that the app may read members by mobile",
    );
    this.people = new PersonNames(async userId => {
      const { result } = await this.api.callLegacy(
        {
          operation: 'read a user',
          method: 'POST',
          path: '/topapi/v2/user/get',
          body: { userid: userId },
        },
        userSchema,
      );
      return result.name;
    });
    if (integration.token && integration.aesKey) {
      this.callbacks = new DingtalkCallbackVerifier({
        token: integration.token,
        encodingAesKey: integration.aesKey,
        receiveId: integration.receiveId ?? integration.appKey,
      });
    }
  }

  verifyCredentials() {
    return this.api.verifyCredentials();
  }

  describeForm(processCode: string): Promise<ImFormField[]> {
    return this.forms.getOrLoad(processCode, () => this.readForm(processCode));
  }

  /** The form's fields as DingTalk has them now (the cache then keeps them). */
  private async readForm(processCode: string): Promise<ImFormField[]> {
    const form = await this.api.call(
      {
        operation: `read approval form "${processCode}"`,
        method: 'GET',
        path: '/v1.0/workflow/forms/schemas/processCodes',
        query: { processCode },
      },
      formSchema,
    );
    const fields = form.result.schemaContent.items.flatMap(
      ({ componentName, props }) =>
        props.id
          ? [
              {
                id: props.id,
                name: props.label ?? '',
                type: componentName,
                required: props.required ?? false,
              },
            ]
          : [],
    );
    this.forms.set(processCode, fields);
    return fields;
  }

  /**
   * Whether DingTalk takes the template's stages and has its form: at most 20 approver steps, and
   * a form that can be read. Template checks call it on save; createInstance checks the same.
   */
  async checkTemplate(
    template: Pick<ImInstanceRequest, 'form' | 'stages'>,
  ): Promise<ImFormField[]> {
    checkDingtalkStages(template.stages);
    return this.describeForm(template.form);
  }

  /** Creates the OA approval form (no processCode), or updates the one made before in place. */
  async saveForm(spec: ImFormSpec, formId?: string): Promise<ImSavedForm> {
    const saved = await this.api
      .call(
        {
          operation: formId
            ? `update approval form "${formId}"`
            : `create approval form "${spec.name}"`,
          method: 'POST',
          path: '/v1.0/workflow/forms',
          body: dingtalkFormBody(spec, formId),
        },
        z.object({
          result: z.object({ processCode: z.string().min(1) }),
        }),
      )
      .catch(error => {
        // DingTalk's own words for it are Chinese only (已有相同名称表单).
        if (error instanceof ImApiError && error.code === 'formName.error')
          throw new ImApiError(
            'invalid_request',
            `Another DingTalk approval form is already named "${spec.name}" (perhaps made by an earlier attempt whose answer was lost); ` +
              'rename or delete it in the OA approval admin console, then save the form again',
            error.code,
          );
        throw error;
      });
    const processCode = saved.result.processCode;
    // Instances opened right after the save fill the fields as saved, not as cached before it.
    this.forms.set(processCode, savedFields(spec));
    return { formId: processCode };
  }

  /** Reads the form afresh (someone may have edited it in the console) and names each difference. */
  async formDrift(spec: ImFormSpec, formId: string): Promise<string[]> {
    try {
      return dingtalkFormDrift(spec, formId, await this.readForm(formId));
    } catch (error) {
      if (error instanceof ImApiError && error.kind === 'not_found')
        return [`DingTalk form ${formId} no longer exists`];
      throw error;
    }
  }

  async createInstance(request: ImInstanceRequest): Promise<ImInstanceRef> {
    const { body, labels } = await this.createBody(request);
    const created = await this.api.call(
      {
        operation: 'create an approval instance',
        method: 'POST',
        path: '/v1.0/workflow/processInstances',
        body,
      },
      z.object({ instanceId: z.string().min(1) }),
    );
    return { ...instanceRef(this.integration, created.instanceId), labels };
  }

  /**
   * DingTalk has no idempotency key: lists the form's instances started by the initiator since
   * `since` and answers the one with exactly this request's form values (which name the run).
   */
  async findCreated(
    request: ImInstanceRequest,
    since: Date,
  ): Promise<ImInstanceRef[]> {
    const found: ImInstanceRef[] = [];
    const { body, labels } = await this.createBody(request);
    const wanted = body.formComponentValues;
    let nextToken = 0;
    for (let page = 0; page < FIND_PAGES; page++) {
      const { result } = await this.api.call(
        {
          operation: 'list approval instances',
          method: 'POST',
          path: '/v1.0/workflow/processes/instanceIds/query',
          body: {
            processCode: request.form,
            startTime: since.getTime(),
            endTime: Date.now() + 60_000,
            nextToken,
            maxResults: FIND_PAGE_SIZE,
            userIds: [body.originatorUserId],
          },
        },
        instanceIdsSchema,
      );
      for (const id of result.list) {
        const { result: instance } = await this.instance(id);
        if (
          instance.originatorUserId &&
          instance.originatorUserId !== body.originatorUserId
        )
          continue;
        const values = instance.formComponentValues;
        if (
          wanted.every(w =>
            values.some(
              v => (v.id === w.id || v.name === w.name) && v.value === w.value,
            ),
          )
        ) {
          found.push({ ...instanceRef(this.integration, id), labels });
        }
      }
      if (
        result.nextToken === undefined ||
        result.nextToken === null ||
        result.list.length === 0
      )
        break;
      nextToken = Number(result.nextToken);
    }
    return found;
  }

  /**
   * The create call's body: form values by the form's labels, people resolved to user ids; and the
   * labels of the fields filled.
   */
  private async createBody(request: ImInstanceRequest) {
    checkDingtalkStages(request.stages);
    const form = await this.describeForm(request.form);
    // DingTalk shows an instance by its form's name: the title is the context's first line.
    const { filled, labels } = fillForm(
      form,
      withContext(form, request.fields, request.context ?? [], {
        title: request.title,
      }),
      `DingTalk form "${request.form}"`,
    );
    const formComponentValues = filled.map(({ imField, value }) => ({
      id: imField.id,
      name: imField.name,
      value,
    }));
    const [[originator], cc, ...steps] = await Promise.all([
      this.users.resolve([request.initiator ?? this.integration.initiator]),
      this.users.resolve(request.cc ?? []),
      ...request.stages.map(stage => this.users.resolve(stage.approvers)),
    ]);
    const body = {
      originatorUserId: originator,
      processCode: request.form,
      formComponentValues,
      // One approver step per stage, walked by DingTalk in order.
      approvers: steps.map((userIds, index) => ({
        actionType: approversActionType(
          userIds.length,
          request.stages[index].rule,
        ),
        userIds,
      })),
      // CC recipients are told when it opens and again when it is decided.
      ...(cc.length > 0
        ? { ccList: [...new Set(cc)], ccPosition: 'START_FINISH' }
        : {}),
      ...(this.integration.agentId
        ? { microappAgentId: this.integration.agentId }
        : {}),
    };
    return { body, labels };
  }

  findUsers(people: string[]): Promise<Array<string | undefined>> {
    return this.users.find(people);
  }

  async readInstance(instanceId: string): Promise<ImInstanceState> {
    const { result: instance } = await this.instance(instanceId);
    const status = dingtalkInstanceStatus(instance.status, instance.result);
    if (!status) {
      throw new ImApiError(
        'unavailable',
        `DingTalk instance ${instanceId} has an unknown status "${instance.status}" with result "${instance.result ?? ''}"`,
      );
    }
    const stages = await this.stageProgress(instance.tasks, status);
    if (status === 'pending') return { status, ...stages };
    // Read once decided, for the decision's record (not on the reconciler's pending reads).
    const handovers = await this.handovers(instance.operationRecords);
    const progress = {
      ...stages,
      ...(handovers.length > 0 ? { handovers } : {}),
    };
    const deciding = instance.operationRecords
      .filter(DINGTALK_DECIDING_RECORD[status])
      .at(-1);
    return {
      status,
      ...progress,
      decidedBy: deciding?.userId
        ? await this.people.person(deciding.userId)
        : undefined,
      comment: deciding?.remark || undefined,
      decidedAt: dingtalkDecidedAt(deciding?.date, new Date()),
    };
  }

  /**
   * Tasks handed on in DingTalk (转交, a REDIRECT_TASK record) and approvers added to a step (加签,
   * APPEND_TASK_BEFORE or _AFTER), oldest first. The record names who handed on or added, not to
   * whom: the decision names who finally decided.
   */
  private handovers(
    records: Array<{ userId?: string; type?: string; remark?: string }>,
  ): Promise<ImHandover[]> {
    return Promise.all(
      records.flatMap(({ type, userId, remark }) => {
        const kind = type && DINGTALK_HANDOVER_RECORDS[type];
        return kind && userId
          ? [
              this.people.person(userId).then(from => ({
                kind,
                from,
                to: [],
                ...(remark ? { comment: remark } : {}),
              })),
            ]
          : [];
      }),
    );
  }

  namesOf(userIds: string[]) {
    return Promise.all(userIds.map(id => this.people.person(id)));
  }

  /**
   * A work notice (工作通知) from the app, as plain text with the link on a line of its own: at most
   * 100 people a call. DingTalk drops a notice with the same content to the same person within a
   * day, so each text must say something new (a reminder says how long the request has waited).
   */
  async sendMessage(userIds: string[], text: string, url?: string) {
    const { agentId } = this.integration;
    if (!agentId)
      throw new ImApiError(
        'invalid_request',
        `DingTalk sends work notices only from the app's AgentId: set agentId on integration "${this.integration.id}"`,
      );
    const content = url ? `${text}\n${url}` : text;
    for (let start = 0; start < userIds.length; start += WORK_NOTICE_USERS) {
      await this.api.callLegacy(
        {
          operation: 'send a work notice',
          method: 'POST',
          path: '/topapi/message/corpconversation/asyncsend_v2',
          body: {
            agent_id: agentId,
            userid_list: userIds
              .slice(start, start + WORK_NOTICE_USERS)
              .join(','),
            msg: { msgtype: 'text', text: { content } },
          },
        },
        z.object({ task_id: z.number() }).loose(),
      );
    }
  }

  async cancelInstance(instanceId: string, reason?: string) {
    const { result: instance } = await this.instance(instanceId);
    if (
      dingtalkInstanceStatus(instance.status, instance.result) !== 'pending'
    ) {
      return {
        revoked: false,
        message: `the DingTalk instance is already ${instance.status}`,
      };
    }
    try {
      await this.api.call(
        {
          operation: 'terminate an approval instance',
          method: 'POST',
          path: '/v1.0/workflow/processInstances/terminate',
          body: {
            processInstanceId: instanceId,
            isSystem: true,
            // Approvers see the remark on the terminated request.
            remark: reason ?? 'Canceled in Backstage',
          },
        },
        z.object({ result: z.boolean().optional() }).loose(),
      );
      return { revoked: true };
    } catch (error) {
      if (error instanceof ImApiError && !error.transient)
        return {
          revoked: false,
          message: `could not terminate: ${error.message}`,
        };
      throw error;
    }
  }

  async handleCallback(request: ImCallbackRequest) {
    if (!this.callbacks) {
      rejectCallback(
        400,
        `DingTalk integration "${this.integration.id}" takes no HTTP callbacks (connection mode ${this.integration.connectionMode}, no callback token and aesKey)`,
      );
    }
    return this.callbacks.verify(request, {
      now: new Date(),
      maxAgeSeconds: this.deps.callbackMaxAgeSeconds,
    });
  }

  /**
   * An interactive card from the app's robot (robotCode = AppKey; the robot must be in the group),
   * made from the integration's card template, its clicks called back over Stream. Its outTrackId
   * is the approval's: a card an earlier attempt delivered (its answer lost) is updated instead.
   */
  async postCard(chatId: string, card: ImCard) {
    const cardTemplateId = this.cardTemplateId();
    const outTrackId = dingtalkOutTrackId(card.approvalId);
    try {
      await this.api.call(
        {
          operation: 'deliver a card to a group chat',
          method: 'POST',
          path: '/v1.0/card/instances/createAndDeliver',
          body: {
            cardTemplateId,
            outTrackId,
            callbackType: 'STREAM',
            cardData: { cardParamMap: dingtalkCardData(card) },
            openSpaceId: `dtv1.card//IM_GROUP.${chatId}`,
            imGroupOpenSpaceModel: { supportForward: false },
            imGroupOpenDeliverModel: { robotCode: this.integration.appKey },
            userIdType: 1,
          },
        },
        z.object({ result: z.looseObject({}).optional() }).loose(),
      );
    } catch (error) {
      if (!(error instanceof ImApiError) || error.transient) throw error;
      // Delivered before under this outTrackId? Then it updates; if not, the first refusal stands.
      await this.updateCard(outTrackId, card).catch(() => {
        throw error;
      });
    }
    return outTrackId;
  }

  /** Replaces the card's data for everyone in the group. */
  async updateCard(cardId: string, card: ImCard) {
    await this.api.call(
      {
        operation: 'update a card',
        method: 'PUT',
        path: '/v1.0/card/instances',
        body: {
          outTrackId: cardId,
          cardData: { cardParamMap: dingtalkCardData(card) },
          cardUpdateOptions: { updateCardDataByKey: false },
          userIdType: 1,
        },
      },
      z.object({ result: z.unknown().optional() }).loose(),
    );
  }

  /** Agrees or refuses the approver's own running task of the instance, as them (ExecuteProcessInstance). */
  async decideTask(
    instanceId: string,
    approverId: string,
    action: 'approve' | 'reject',
    comment?: string,
  ) {
    const { result: instance } = await this.instance(instanceId);
    const task = instance.tasks.find(
      candidate =>
        candidate.userId === approverId &&
        candidate.status === 'RUNNING' &&
        candidate.taskId !== undefined,
    );
    if (!task)
      throw new ImApiError(
        'invalid_request',
        `you have no running task on this DingTalk request (your step is not open, or it is decided); ${approverId} on ${instanceId}`,
      );
    await this.api.call(
      {
        operation: 'execute an approval task',
        method: 'POST',
        path: '/v1.0/workflow/processInstances/execute',
        body: {
          processInstanceId: instanceId,
          taskId: Number(task.taskId),
          actionerUserId: approverId,
          result: action === 'approve' ? 'agree' : 'refuse',
          ...(comment && { remark: comment }),
        },
      },
      z.object({ result: z.unknown().optional() }).loose(),
    );
  }

  private cardTemplateId(): string {
    const { cardTemplateId } = this.integration;
    if (!cardTemplateId)
      throw new ImApiError(
        'invalid_request',
        `DingTalk cards are made from a card template: set cardTemplateId on integration "${this.integration.id}"`,
      );
    return cardTemplateId;
  }

  connect(
    onEvents: ImEventHandler,
    observer: ImConnectionObserver,
    onCardClick?: ImCardClickHandler,
  ) {
    return openDingtalkStream(
      this.integration,
      this.deps.logger,
      onEvents,
      observer,
      onCardClick,
    );
  }

  /** The progress of each approver step DingTalk has tasks for (steps not reached have none), from the instance's tasks. */
  private async stageProgress(
    tasks: DingtalkTask[],
    status: ImInstanceState['status'],
  ): Promise<{ stages?: ImStageProgress[] }> {
    const steps = tasksBySteps(tasks);
    if (steps.length === 0) return {};
    const statuses = stepStatuses(steps, status);
    const stages = await Promise.all(
      steps.map(async (step, index) => ({
        status: statuses[index],
        approvedBy: await Promise.all(
          usersOf(step, task => task.result === 'AGREE').map(userId =>
            this.people.person(userId),
          ),
        ),
        waitingOn: usersOf(step, task => task.status === 'RUNNING'),
      })),
    );
    return { stages };
  }

  private instance(instanceId: string) {
    return this.api.call(
      {
        operation: 'read an approval instance',
        method: 'GET',
        path: '/v1.0/workflow/processInstances',
        query: { processInstanceId: instanceId },
      },
      instanceSchema,
    );
  }

  /**
   * DingTalk looks people up by mobile only, one at a time. By email it finds nobody, so a catalog
   * group member known only by email is left out ahead, as one the IM does not know.
   */
  private async lookUpUser({
    kind,
    value,
  }: {
    kind: ContactKind;
    value: string;
  }): Promise<string | undefined> {
    if (kind === 'email') return undefined;
    const { result } = await this.api.callLegacy(
      {
        operation: 'look up a user by mobile',
        method: 'POST',
        path: '/topapi/v2/user/getbymobile',
        body: { mobile: bareMobile(value) },
      },
      userSchema,
    );
    return result.userid;
  }
}
