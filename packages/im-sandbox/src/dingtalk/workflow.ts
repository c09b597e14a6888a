import { z } from 'zod';
import {
  ApprovalFlow,
  DecisionError,
  type FlowChange,
} from '../flow/approvalFlow';
import { DingtalkApiError, invalidParameter } from './errors';
import type { DingtalkInstance, DingtalkState } from './state';

// How a DingTalk approval instance is created, decided and terminated, and the events each
// change makes (bpms_instance_change / bpms_task_change payloads without the envelope).

export const createInstanceRequestSchema = z.object({
  originatorUserId: z.string().min(1),
  processCode: z.string().min(1),
  deptId: z.number().int().optional(),
  microappAgentId: z.number().int().optional(),
  approvers: z
    .array(
      z.object({
        actionType: z.enum(['AND', 'OR', 'NONE']),
        userIds: z.array(z.string().min(1)).min(1),
      }),
    )
    .max(20)
    .optional(),
  ccList: z.array(z.string().min(1)).optional(),
  ccPosition: z.enum(['START', 'FINISH', 'START_FINISH']).optional(),
  formComponentValues: z.array(
    z.object({
      name: z.string().min(1),
      value: z.string(),
      id: z.string().optional(),
      componentType: z.string().optional(),
    }),
  ),
});
export type CreateInstanceRequest = z.infer<typeof createInstanceRequestSchema>;

export const terminateRequestSchema = z.object({
  processInstanceId: z.string().min(1),
  isSystem: z.boolean().optional(),
  remark: z.string().optional(),
  operatingUserId: z.string().min(1).optional(),
});
export type TerminateRequest = z.infer<typeof terminateRequestSchema>;

export type DingtalkEvent =
  | {
      EventType: 'bpms_task_change';
      processInstanceId: string;
      processCode: string;
      taskId: string;
      staffId: string;
      type: 'start' | 'finish' | 'cancel' | 'redirect';
      result?: 'agree' | 'refuse';
      remark?: string;
      createTime: number;
      finishTime?: number;
      [key: string]: unknown;
    }
  | {
      EventType: 'bpms_instance_change';
      processInstanceId: string;
      processCode: string;
      staffId: string;
      type: 'start' | 'finish' | 'terminate';
      result?: 'agree' | 'refuse';
      createTime: number;
      finishTime?: number;
      [key: string]: unknown;
    };

export function createInstance(
  state: DingtalkState,
  appKey: string,
  request: CreateInstanceRequest,
  now: number,
) {
  const form = state.forms.get(request.processCode);
  if (!form)
    throw new DingtalkApiError(
      400,
      'processCodeNotExist',
      `processCode ${request.processCode} does not exist`,
    );
  if (!state.users.has(request.originatorUserId)) {
    throw invalidParameter(
      `originatorUserId ${request.originatorUserId} is not a user of the corp`,
    );
  }
  const values = request.formComponentValues.map((entry, index) => {
    const component = form.components.find(
      candidate => candidate.label === entry.name,
    );
    if (!component) {
      throw invalidParameter(
        `formComponentValues[${index}].name: the form ${form.processCode} has no component labelled "${entry.name}"`,
      );
    }
    return {
      id: component.id,
      name: component.label,
      componentType: component.componentType,
      value: entry.value,
    };
  });
  const missing = form.components.filter(
    component =>
      component.required &&
      !values.some(value => value.id === component.id && value.value !== ''),
  );
  if (missing.length > 0) {
    throw invalidParameter(
      `formComponentValues: required component ${missing.map(component => `"${component.label}"`).join(', ')} has no value`,
    );
  }
  const approvers = request.approvers ?? [];
  if (approvers.length === 0)
    throw invalidParameter(
      'approvers: the form has no flow of its own; give at least one approver node',
    );
  approvers.forEach((node, index) => {
    if (node.actionType === 'NONE' && node.userIds.length !== 1) {
      throw invalidParameter(
        `approvers[${index}]: actionType NONE takes exactly one user, got ${node.userIds.length}`,
      );
    }
    const unknown = node.userIds.find(userId => !state.users.has(userId));
    if (unknown !== undefined)
      throw invalidParameter(
        `approvers[${index}].userIds: ${unknown} is not a user of the corp`,
      );
  });

  const ccUserIds = [...new Set(request.ccList ?? [])];
  const unknownCc = ccUserIds.find(userId => !state.users.has(userId));
  if (unknownCc !== undefined)
    throw invalidParameter(`ccList: ${unknownCc} is not a user of the corp`);

  const flow = new ApprovalFlow(
    approvers.map(node => ({
      mode: node.actionType === 'AND' ? 'AND' : 'OR',
      approvers: [...new Set(node.userIds)],
    })),
    state.nextTaskId,
  );
  const instance: DingtalkInstance = {
    processInstanceId: state.newInstanceId(),
    processCode: form.processCode,
    formName: form.name,
    appKey,
    originatorUserId: request.originatorUserId,
    businessId: `${new Date(now).toISOString().slice(0, 10).replaceAll('-', '')}${String(state.instances.size + 1).padStart(6, '0')}`,
    formComponentValues: values,
    approvers,
    flow,
    terminated: false,
    createTime: now,
    ...(ccUserIds.length > 0
      ? { ccUserIds, ccPosition: request.ccPosition ?? 'START' }
      : {}),
    operationRecords: [
      {
        userId: request.originatorUserId,
        date: now,
        type: 'START_PROCESS_INSTANCE',
        result: 'NONE',
      },
    ],
  };
  state.instances.set(instance.processInstanceId, instance);
  state.stats.instanceCreates += 1;
  return { instance, events: toEvents(instance, flow.start(now)) };
}

export function decide(
  instance: DingtalkInstance,
  decision: Parameters<ApprovalFlow['decide']>[1],
  now: number,
) {
  const changes = instance.flow.decide(
    instance.processInstanceId,
    decision,
    now,
  );
  const decided = changes.find(
    change =>
      change.kind === 'task' &&
      (change.status === 'APPROVED' || change.status === 'REJECTED'),
  );
  if (decided?.kind === 'task') {
    instance.operationRecords.push({
      userId: decided.task.userId,
      date: now,
      type: 'EXECUTE_TASK_NORMAL',
      result: decided.status === 'APPROVED' ? 'AGREE' : 'REFUSE',
      remark: decision.comment,
    });
  }
  return toEvents(instance, changes);
}

export const executeTaskSchema = z.object({
  processInstanceId: z.string().min(1),
  result: z.enum(['agree', 'refuse']),
  actionerUserId: z.string().min(1),
  taskId: z.number().int().positive(),
  remark: z.string().max(2000).optional(),
  file: z.unknown().optional(),
});

export const redirectRequestSchema = z.strictObject({
  /** The approver whose pending task is handed on. */
  fromUserId: z.string().min(1),
  toUserId: z.string().min(1),
  remark: z.string().optional(),
});
export type RedirectRequest = z.infer<typeof redirectRequestSchema>;

/** Who an approver hands on to or adds must be users of the corp. */
function requireUsers(state: DingtalkState, userIds: string[]) {
  const unknown = userIds.find(userId => !state.users.has(userId));
  if (unknown !== undefined)
    throw new DecisionError(404, `${unknown} is not a user of the corp`);
}

/** The record of a hand-over by `userId`: it says who and why, not to whom. */
function recordHandover(
  instance: DingtalkInstance,
  userId: string,
  type: 'REDIRECT_TASK' | 'APPEND_TASK_BEFORE',
  remark: string | undefined,
  now: number,
) {
  instance.operationRecords.push({
    userId,
    date: now,
    type,
    result: 'NONE',
    remark,
  });
}

/**
 * An approver hands their pending task to someone else (转交): the read API reports their task
 * with result REDIRECTED, and a new task of the same node is the other's.
 */
export function redirect(
  state: DingtalkState,
  instance: DingtalkInstance,
  request: RedirectRequest,
  now: number,
): DingtalkEvent[] {
  requireUsers(state, [request.toUserId]);
  const changes = instance.flow.transfer(
    instance.processInstanceId,
    { from: request.fromUserId, to: request.toUserId, comment: request.remark },
    now,
  );
  recordHandover(
    instance,
    request.fromUserId,
    'REDIRECT_TASK',
    request.remark,
    now,
  );
  return toEvents(instance, changes);
}

export const appendRequestSchema = z.strictObject({
  /** The approver who adds people to decide their step with them (加签). */
  byUserId: z.string().min(1),
  userIds: z.array(z.string().min(1)).min(1),
  remark: z.string().optional(),
});
export type AppendRequest = z.infer<typeof appendRequestSchema>;

/** An approver adds people to their step (加签): each gets a running task of it. */
export function append(
  state: DingtalkState,
  instance: DingtalkInstance,
  request: AppendRequest,
  now: number,
): DingtalkEvent[] {
  requireUsers(state, request.userIds);
  const changes = instance.flow.addApprovers(
    instance.processInstanceId,
    { by: request.byUserId, add: request.userIds },
    now,
  );
  recordHandover(
    instance,
    request.byUserId,
    'APPEND_TASK_BEFORE',
    request.remark,
    now,
  );
  return toEvents(instance, changes);
}

export function terminate(
  state: DingtalkState,
  request: TerminateRequest,
  now: number,
) {
  const instance = state.instances.get(request.processInstanceId);
  if (!instance)
    throw new DingtalkApiError(
      400,
      'processInstanceNotExist',
      `process instance ${request.processInstanceId} does not exist`,
    );
  if (instance.flow.status !== 'PENDING') {
    throw invalidParameter(
      `process instance ${instance.processInstanceId} is ${instanceStatus(instance)}; only a RUNNING instance can be terminated`,
    );
  }
  const by = request.operatingUserId ?? instance.originatorUserId;
  const changes = instance.flow.cancel(
    instance.processInstanceId,
    now,
    by,
    request.remark,
  );
  instance.terminated = true;
  instance.operationRecords.push({
    userId: by,
    date: now,
    type: 'TERMINATE_PROCESS_INSTANCE',
    result: 'NONE',
    remark: request.remark,
  });
  return { instance, events: toEvents(instance, changes) };
}

/** NEW|RUNNING|TERMINATED|COMPLETED|CANCELED as the read API reports it. */
export function instanceStatus(
  instance: DingtalkInstance,
): 'RUNNING' | 'COMPLETED' | 'TERMINATED' {
  if (instance.flow.status === 'PENDING') return 'RUNNING';
  return instance.terminated ? 'TERMINATED' : 'COMPLETED';
}

export function instanceResult(
  instance: DingtalkInstance,
): 'agree' | 'refuse' | '' {
  if (instance.flow.status === 'APPROVED') return 'agree';
  return instance.flow.status === 'REJECTED' ? 'refuse' : '';
}

/** The `result` field of an event: only decisions have one. */
function resultOf(status: string): { result?: 'agree' | 'refuse' } {
  if (status === 'APPROVED') return { result: 'agree' };
  return status === 'REJECTED' ? { result: 'refuse' } : {};
}

const TASK_EVENT_TYPES = {
  PENDING: 'start',
  APPROVED: 'finish',
  REJECTED: 'finish',
  DONE: 'cancel',
  TRANSFERRED: 'redirect',
} as const;
const INSTANCE_EVENT_TYPES = {
  PENDING: 'start',
  APPROVED: 'finish',
  REJECTED: 'finish',
  CANCELED: 'terminate',
} as const;

function toEvents(
  instance: DingtalkInstance,
  changes: FlowChange[],
): DingtalkEvent[] {
  const common = {
    processInstanceId: instance.processInstanceId,
    processCode: instance.processCode,
    businessId: instance.businessId,
  };
  return changes.map((change): DingtalkEvent => {
    if (change.kind === 'task') {
      const { task } = change;
      const finished = change.status !== 'PENDING';
      return {
        EventType: 'bpms_task_change',
        ...common,
        taskId: task.id,
        staffId: task.userId,
        type: TASK_EVENT_TYPES[change.status],
        ...resultOf(change.status),
        ...(finished && task.comment !== undefined
          ? { remark: task.comment }
          : {}),
        createTime: task.startTime,
        ...(finished ? { finishTime: change.at } : {}),
      };
    }
    const type = INSTANCE_EVENT_TYPES[change.status];
    return {
      EventType: 'bpms_instance_change',
      ...common,
      title: `${instance.formName}`,
      staffId: instance.originatorUserId,
      type,
      ...resultOf(change.status),
      createTime: instance.createTime,
      ...(type === 'start' ? {} : { finishTime: change.at }),
    };
  });
}
