import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  ApprovalFlow,
  DecisionError,
  type FlowChange,
} from '../flow/approvalFlow';
import { describeIssues } from '../validation';
import { FeishuApiError, FeishuCode, approvalParamInvalid } from './errors';
import type {
  ApprovalDefinition,
  FormValue,
  Instance,
  InstanceChange,
  InstanceNode,
} from './model';
import type { FeishuState } from './state';

// How an approval instance is created, decided and canceled: Feishu's rules, applied to the
// in-memory state; the nodes, tasks and outcome follow the shared approval flow. Each operation
// returns the status changes it made, in the order Feishu reports them as v1 events.

const nodeApproverListSchema = z.array(
  z.object({ key: z.string().min(1), value: z.array(z.string().min(1)) }),
);

export const createInstanceRequestSchema = z
  .object({
    approval_code: z.string().min(1),
    user_id: z.string().min(1).optional(),
    open_id: z.string().min(1).optional(),
    form: z.string({ error: 'must be a JSON string of [{id, type, value}]' }),
    node_approver_open_id_list: nodeApproverListSchema.optional(),
    node_approver_user_id_list: nodeApproverListSchema.optional(),
    uuid: z.string().min(1).max(64).optional(),
    title: z.string().min(1).optional(),
    i18n_resources: z
      .array(
        z.object({
          locale: z.string(),
          is_default: z.boolean(),
          texts: z.array(z.object({ key: z.string(), value: z.string() })),
        }),
      )
      .optional(),
  })
  .refine(
    request => request.user_id !== undefined || request.open_id !== undefined,
    {
      path: ['open_id'],
      message: 'the initiator is required: give open_id or user_id',
    },
  );
export type CreateInstanceRequest = z.infer<typeof createInstanceRequestSchema>;

export const cancelInstanceRequestSchema = z.object({
  approval_code: z.string().min(1),
  instance_code: z.string().min(1),
  user_id: z.string().min(1),
});
export type CancelInstanceRequest = z.infer<typeof cancelInstanceRequestSchema>;

export const transferRequestSchema = z.strictObject({
  /** The approver whose pending task is handed on. */
  fromOpenId: z.string().min(1),
  toOpenId: z.string().min(1),
  comment: z.string().optional(),
});
export type TransferRequest = z.infer<typeof transferRequestSchema>;

export const addApproversRequestSchema = z.strictObject({
  /** The approver who asks more people to decide their node with them. */
  byOpenId: z.string().min(1),
  openIds: z.array(z.string().min(1)).min(1),
  comment: z.string().optional(),
});
export type AddApproversRequest = z.infer<typeof addApproversRequestSchema>;

/** POST approval/v4/tasks/approve and tasks/reject: an app acting on an approver's task for them. */
export const taskDecisionRequestSchema = z.object({
  approval_code: z.string().min(1),
  instance_code: z.string().min(1),
  /** The task's approver, in the query's user_id_type. */
  user_id: z.string().min(1),
  task_id: z.string().min(1),
  comment: z.string().optional(),
});
export type TaskDecisionRequest = z.infer<typeof taskDecisionRequestSchema>;

/** The approver of a task decided through the API, who must have that task pending. */
export function taskDecider(
  state: FeishuState,
  request: TaskDecisionRequest,
  userIdType: 'open_id' | 'user_id',
): string {
  const { instance } = instanceOfApproval(state, request);
  const user =
    userIdType === 'open_id'
      ? state.users.get(request.user_id)
      : state.userByUserId(request.user_id);
  if (!user)
    throw new FeishuApiError(
      FeishuCode.userNotFound,
      `user_id ${request.user_id} not found (user_id_type ${userIdType})`,
    );
  const task = instance.flow.tasks.find(
    candidate => candidate.id === request.task_id,
  );
  if (!task || task.userId !== user.openId)
    throw new FeishuApiError(
      FeishuCode.taskNotFound,
      `task ${request.task_id} of user ${request.user_id} not found on instance ${instance.instanceCode}`,
    );
  if (task.status !== 'PENDING')
    throw approvalParamInvalid(
      `task ${request.task_id} is ${task.status}; only a pending task can be decided`,
    );
  return user.openId;
}

/** POST approval/v4/instances/add_sign: every id a user_id (the API takes no user_id_type). */
export const addSignRequestSchema = z.object({
  approval_code: z.string().min(1),
  instance_code: z.string().min(1),
  /** The approver whose task people are added to. */
  user_id: z.string().min(1),
  task_id: z.string().min(1),
  comment: z.string().optional(),
  add_sign_user_ids: z.array(z.string().min(1)).min(1),
  /** 1 before the task's approver, 2 after (their task approves itself), 3 beside them (并加签). */
  add_sign_type: z.union([z.literal(1), z.literal(2), z.literal(3)]),
  /** For 1 and 2 only: 1 any one of them (或签), 2 all of them (会签). */
  approval_method: z.union([z.literal(1), z.literal(2)]).optional(),
});
export type AddSignRequest = z.infer<typeof addSignRequestSchema>;

export const ccInstanceRequestSchema = z.object({
  approval_code: z.string().min(1),
  instance_code: z.string().min(1),
  user_id: z.string().min(1),
  cc_user_ids: z.array(z.string().min(1)).min(1),
  comment: z.string().optional(),
});
export type CcInstanceRequest = z.infer<typeof ccInstanceRequestSchema>;

const I18N_PREFIX = '@i18n@';

const formEntrySchema = z.looseObject({
  id: z.string().min(1),
  type: z.string().min(1),
  value: z.unknown(),
});

export interface Decision {
  decision: 'approve' | 'reject';
  /** Who decides; by default the first approver with a pending task. */
  openId?: string;
  comment?: string;
}

export function createInstance(
  state: FeishuState,
  appId: string,
  request: CreateInstanceRequest,
  now: number,
): { instance: Instance; created: boolean; changes: InstanceChange[] } {
  const approval = state.approvals.get(request.approval_code);
  if (!approval)
    throw new FeishuApiError(
      FeishuCode.approvalNotFound,
      'approval code not found',
    );

  // One uuid creates at most one instance; a repeat is refused, whatever it asks for.
  if (request.uuid !== undefined && state.instanceByUuid(request.uuid)) {
    throw new FeishuApiError(
      FeishuCode.uuidConflict,
      'uuid conflict: an instance was already created with this uuid',
    );
  }

  const initiator = resolveInitiator(state, request);
  const form = parseForm(approval, request.form);
  const nodes = chooseApprovers(state, approval, request);
  const title = resolveTitle(request);
  const flow = new ApprovalFlow(
    nodes.map(node => ({ mode: node.type, approvers: node.approvers })),
    () => state.nextTaskId(),
  );
  const instance: Instance = {
    instanceCode: randomUUID().toUpperCase(),
    approvalCode: approval.approvalCode,
    approvalName: approval.name,
    appId,
    uuid: request.uuid,
    title,
    serialNumber: state.nextSerialNumber(now),
    initiator,
    form,
    nodes,
    flow,
    startTime: now,
    timeline: [{ type: 'START', openId: initiator, createTime: now }],
  };
  const changes = toChanges(instance, flow.start(now));
  state.addInstance(instance);
  state.stats.instanceCreates += 1;
  return { instance, created: true, changes };
}

export function decide(
  instance: Instance,
  decision: Decision,
  now: number,
): InstanceChange[] {
  const { flow } = instance;
  if (flow.status !== 'PENDING') {
    throw new DecisionError(
      409,
      `instance ${instance.instanceCode} is ${flow.status}; only a PENDING instance can be decided`,
    );
  }
  // Any rejection ends the instance; an OR node is done with one approval, an AND node with all.
  const changes = flow.decide(
    instance.instanceCode,
    {
      decision: decision.decision,
      userId: decision.openId,
      comment: decision.comment,
    },
    now,
  );
  const decided = changes.find(
    change =>
      change.kind === 'task' &&
      (change.status === 'APPROVED' || change.status === 'REJECTED'),
  );
  if (decided?.kind === 'task') {
    instance.timeline.push({
      type: decided.status === 'APPROVED' ? 'PASS' : 'REJECT',
      openId: decided.task.userId,
      comment: decision.comment,
      createTime: now,
      nodeId: instance.nodes[decided.task.node].nodeId,
      taskId: decided.task.id,
    });
  }
  return toChanges(instance, changes);
}

export function cancelInstance(
  state: FeishuState,
  request: CancelInstanceRequest,
  userIdType: 'open_id' | 'user_id',
  now: number,
): { instance: Instance; changes: InstanceChange[] } {
  const { approval, instance } = instanceOfApproval(state, request);
  const user =
    userIdType === 'open_id'
      ? state.users.get(request.user_id)
      : state.userByUserId(request.user_id);
  if (user?.openId !== instance.initiator) {
    throw approvalParamInvalid(
      `user_id ${request.user_id} is not the initiator of instance ${instance.instanceCode}; only the initiator can cancel it`,
    );
  }
  if (!approval.allowRevoke) {
    throw approvalParamInvalid(
      `approval ${approval.approvalCode} does not allow revoking pending requests`,
    );
  }
  if (instance.flow.status !== 'PENDING') {
    throw approvalParamInvalid(
      `instance ${instance.instanceCode} is ${instance.flow.status}; only a PENDING instance can be canceled`,
    );
  }
  instance.timeline.push({
    type: 'CANCEL',
    openId: instance.initiator,
    createTime: now,
  });
  return {
    instance,
    changes: toChanges(
      instance,
      instance.flow.cancel(instance.instanceCode, now, instance.initiator),
    ),
  };
}

/**
 * An approver hands their pending task to someone else in the Feishu app (转交): their task ends
 * TRANSFERRED, the other person gets a task of the same node, and the timeline has a TRANSFER
 * entry naming them.
 */
export function transfer(
  state: FeishuState,
  instance: Instance,
  request: TransferRequest,
  now: number,
): InstanceChange[] {
  requireUsers(state, [request.toOpenId]);
  const changes = instance.flow.transfer(
    instance.instanceCode,
    {
      from: request.fromOpenId,
      to: request.toOpenId,
      comment: request.comment,
    },
    now,
  );
  return handedOver(instance, changes, {
    type: 'TRANSFER',
    by: request.fromOpenId,
    to: [request.toOpenId],
    comment: request.comment,
    now,
    // The handed-on approver's place in the node is the other person's now.
    approvers: approvers =>
      approvers.map(openId =>
        openId === request.fromOpenId ? request.toOpenId : openId,
      ),
  });
}

/**
 * An approver asks more people to decide their node with them in the Feishu app (并加签): each gets
 * a task of the node, and the timeline has an ADD_APPROVER entry naming them.
 */
export function addApprovers(
  state: FeishuState,
  instance: Instance,
  request: AddApproversRequest,
  now: number,
): InstanceChange[] {
  requireUsers(state, request.openIds);
  const added = [...new Set(request.openIds)];
  const changes = instance.flow.addApprovers(
    instance.instanceCode,
    { by: request.byOpenId, add: added },
    now,
  );
  return handedOver(instance, changes, {
    type: 'ADD_APPROVER',
    by: request.byOpenId,
    to: added,
    comment: request.comment,
    now,
    approvers: approvers => [...approvers, ...added],
  });
}

/**
 * The open API's add sign: the task must be the user's own pending one, and each added id a user.
 * Adding beside the approver (3) is modelled, as the app's 并加签; before or after is refused as
 * not modelled, rather than pretended.
 */
export function addSign(
  state: FeishuState,
  request: AddSignRequest,
): AddApproversRequest {
  const { instance } = instanceOfApproval(state, request);
  if (request.add_sign_type !== 3 && request.approval_method === undefined)
    throw approvalParamInvalid(
      `approval_method is required for add_sign_type ${request.add_sign_type}`,
    );
  if (request.add_sign_type !== 3)
    throw approvalParamInvalid(
      `add_sign_type ${request.add_sign_type} is not modelled by this sandbox; only 3 (beside the approver)`,
    );
  const by = state.userByUserId(request.user_id);
  if (!by)
    throw new FeishuApiError(
      FeishuCode.userNotFound,
      `user_id ${request.user_id} not found`,
    );
  const task = instance.flow.tasks.find(
    candidate => candidate.id === request.task_id,
  );
  if (!task || task.userId !== by.openId)
    throw new FeishuApiError(
      FeishuCode.taskNotFound,
      `task ${request.task_id} of user ${request.user_id} not found on instance ${instance.instanceCode}`,
    );
  if (task.status !== 'PENDING')
    throw approvalParamInvalid(
      `task ${request.task_id} is ${task.status}; only a pending task takes added approvers`,
    );
  const openIds = request.add_sign_user_ids.map(userId => {
    const user = state.userByUserId(userId);
    if (!user)
      throw new FeishuApiError(
        FeishuCode.userNotFound,
        `add_sign_user_ids: user_id ${userId} not found`,
      );
    return user.openId;
  });
  return {
    byOpenId: by.openId,
    openIds,
    ...(request.comment !== undefined && { comment: request.comment }),
  };
}

function requireUsers(state: FeishuState, openIds: string[]): void {
  const unknown = openIds.find(openId => !state.users.has(openId));
  if (unknown !== undefined)
    throw new DecisionError(404, `${unknown} is not a user of the tenant`);
}

/** Records a transfer or added approvers: the node's approvers as they now are, and the entry. */
function handedOver(
  instance: Instance,
  changes: FlowChange[],
  handover: {
    type: 'TRANSFER' | 'ADD_APPROVER';
    by: string;
    to: string[];
    comment?: string;
    now: number;
    approvers: (approvers: string[]) => string[];
  },
): InstanceChange[] {
  const [first] = changes;
  if (first?.kind !== 'task')
    throw new Error('a hand-over changes a task first');
  const node = instance.nodes[first.task.node];
  node.approvers = handover.approvers(node.approvers);
  instance.timeline.push({
    type: handover.type,
    openId: handover.by,
    createTime: handover.now,
    comment: handover.comment,
    nodeId: node.nodeId,
    taskId: first.task.id,
    toOpenIds: handover.to,
  });
  return toChanges(instance, changes);
}

/**
 * Feishu's instance CC: the recipients can read the instance (in "CC me") and never decide it.
 * Its reference asks only that user_id (who sends it) and every recipient name users, in the
 * user_id_type given; it sets no rule on who may send it, so neither does the sandbox.
 */
export function ccInstance(
  state: FeishuState,
  request: CcInstanceRequest,
  userIdType: 'open_id' | 'user_id',
  now: number,
): { instance: Instance; recipients: string[] } {
  const { instance } = instanceOfApproval(state, request);
  const userOf = (id: string) =>
    userIdType === 'open_id' ? state.users.get(id) : state.userByUserId(id);
  const sender = userOf(request.user_id);
  if (!sender) {
    throw approvalParamInvalid(
      `user_id ${request.user_id} does not name a user (user_id_type ${userIdType})`,
    );
  }
  const recipients = request.cc_user_ids.map((id, index) => {
    const user = userOf(id);
    if (!user)
      throw approvalParamInvalid(
        `cc_user_ids[${index}]: ${id} does not name a user (user_id_type ${userIdType})`,
      );
    return user.openId;
  });
  instance.timeline.push({
    type: 'CC',
    openId: sender.openId,
    createTime: now,
    comment: request.comment,
    ccOpenIds: [...new Set(recipients)],
  });
  return { instance, recipients };
}

function instanceOfApproval(
  state: FeishuState,
  request: { approval_code: string; instance_code: string },
): { approval: ApprovalDefinition; instance: Instance } {
  const approval = state.approvals.get(request.approval_code);
  if (!approval)
    throw new FeishuApiError(
      FeishuCode.approvalNotFound,
      'approval code not found',
    );
  const instance = state.instances.get(request.instance_code);
  if (!instance)
    throw new FeishuApiError(
      FeishuCode.instanceNotFound,
      'instance code not found',
    );
  if (instance.approvalCode !== approval.approvalCode) {
    throw approvalParamInvalid(
      `instance ${instance.instanceCode} belongs to approval ${instance.approvalCode}, not ${approval.approvalCode}`,
    );
  }
  return { approval, instance };
}

function resolveInitiator(
  state: FeishuState,
  request: CreateInstanceRequest,
): string {
  // Feishu prefers user_id when both are given.
  if (request.user_id !== undefined) {
    const user = state.userByUserId(request.user_id);
    if (!user)
      throw approvalParamInvalid(
        `user_id ${request.user_id} does not name a user`,
      );
    return user.openId;
  }
  const openId = request.open_id ?? '';
  if (!state.users.has(openId))
    throw approvalParamInvalid(`open_id ${openId} does not name a user`);
  return openId;
}

function resolveTitle(request: CreateInstanceRequest): string | undefined {
  const title = request.title;
  if (title === undefined) return undefined;
  // The title is not text: an i18n key (it must start with @i18n@) whose text is in i18n_resources.
  if (!title.startsWith(I18N_PREFIX)) {
    throw approvalParamInvalid(
      `title must be an i18n key starting with ${I18N_PREFIX} whose text is given in i18n_resources, not "${title}"`,
    );
  }
  const resources = request.i18n_resources ?? [];
  const locale =
    resources.find(resource => resource.is_default) ?? resources[0];
  const text = locale?.texts.find(entry => entry.key === title)?.value;
  if (text === undefined)
    throw approvalParamInvalid(
      `title ${title} has no text in the default locale of i18n_resources`,
    );
  return text;
}

function parseForm(approval: ApprovalDefinition, raw: string): FormValue[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw approvalParamInvalid(
      'form is not valid JSON; it must be a JSON string of [{id, type, value}]',
    );
  }
  const entries = z.array(formEntrySchema).safeParse(parsed);
  if (!entries.success)
    throw approvalParamInvalid(describeIssues(entries.error, 'form'));

  const values = new Map<string, unknown>();
  entries.data.forEach((entry, index) => {
    const widget = approval.form.find(candidate => candidate.id === entry.id);
    if (!widget) {
      throw approvalParamInvalid(
        `form[${index}].id: widget ${entry.id} does not exist in approval ${approval.approvalCode}`,
      );
    }
    if (entry.type !== widget.type) {
      throw approvalParamInvalid(
        `form[${index}].type: widget ${entry.id} is of type ${widget.type}, not ${entry.type}`,
      );
    }
    // A widget given without a value is an error on Feishu, even for an optional one.
    if (entry.value === undefined)
      throw approvalParamInvalid(
        `form[${index}].value: widget ${entry.id} has no value`,
      );
    if (
      (widget.type === 'input' || widget.type === 'textarea') &&
      typeof entry.value !== 'string'
    ) {
      throw approvalParamInvalid(
        `form[${index}].value: widget ${entry.id} (${widget.type}) takes a string`,
      );
    }
    values.set(widget.id, entry.value);
  });

  const missing = approval.form.filter(
    widget => widget.required && (values.get(widget.id) ?? '') === '',
  );
  if (missing.length > 0) {
    const names = missing
      .map(widget => `${widget.id} (${widget.name})`)
      .join(', ');
    throw approvalParamInvalid(`form: required widget ${names} has no value`);
  }
  return approval.form
    .filter(widget => values.has(widget.id))
    .map(widget => ({
      id: widget.id,
      name: widget.name,
      type: widget.type,
      value: values.get(widget.id),
    }));
}

function chooseApprovers(
  state: FeishuState,
  approval: ApprovalDefinition,
  request: CreateInstanceRequest,
): InstanceNode[] {
  const chosen = new Map<string, Set<string>>();
  const lists = [
    {
      field: 'node_approver_open_id_list',
      entries: request.node_approver_open_id_list ?? [],
      find: (id: string) => state.users.get(id),
    },
    {
      field: 'node_approver_user_id_list',
      entries: request.node_approver_user_id_list ?? [],
      find: (id: string) => state.userByUserId(id),
    },
  ];
  for (const { field, entries, find } of lists) {
    entries.forEach((entry, index) => {
      const node = approval.nodes.find(
        candidate =>
          candidate.nodeId === entry.key ||
          candidate.customNodeId === entry.key,
      );
      if (!node) {
        throw approvalParamInvalid(
          `${field}[${index}].key: no node has node_id or custom_node_id ${entry.key} in approval ${approval.approvalCode}`,
        );
      }
      if (!node.needApprover) {
        throw approvalParamInvalid(
          `${field}[${index}].key: node ${entry.key} does not take approvers chosen by the initiator`,
        );
      }
      const approvers = chosen.get(node.nodeId) ?? new Set<string>();
      for (const id of entry.value) {
        const user = find(id);
        if (!user)
          throw approvalParamInvalid(
            `${field}[${index}].value: approver ${id} does not name a user`,
          );
        approvers.add(user.openId);
      }
      chosen.set(node.nodeId, approvers);
    });
  }

  return approval.nodes
    .filter(node => node.needApprover)
    .map(node => {
      const approvers = [...(chosen.get(node.nodeId) ?? [])];
      if (approvers.length === 0) {
        const key = node.customNodeId ?? node.nodeId;
        throw approvalParamInvalid(
          `node_approver_open_id_list: node ${key} (${node.name}) needs at least one approver`,
        );
      }
      if (approvers.length > 1 && !node.approverChosenMulti) {
        const key = node.customNodeId ?? node.nodeId;
        throw approvalParamInvalid(
          `node_approver_open_id_list: node ${key} (${node.name}) takes one approver (approver_chosen_multi is false), not ${approvers.length}`,
        );
      }
      return { ...node, approvers };
    });
}

/** The flow's changes as Feishu reports them: a task by its open_id and node_id. */
function toChanges(
  instance: Instance,
  changes: FlowChange[],
): InstanceChange[] {
  return changes.map((change): InstanceChange => {
    if (change.kind === 'instance')
      return { kind: 'instance', status: change.status, at: change.at };
    const { task } = change;
    return {
      kind: 'task',
      taskId: task.id,
      openId: task.userId,
      nodeId: instance.nodes[task.node].nodeId,
      status: change.status,
      at: change.at,
    };
  });
}
