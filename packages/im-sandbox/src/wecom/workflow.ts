import { z } from 'zod';
import {
  ApprovalFlow,
  type Decision,
  DecisionError,
  type FlowNode,
} from '../flow/approvalFlow';
import { WecomApiError, WecomCode, applyInvalid } from './errors';
import type { ApvRel, WecomInstance, WecomState } from './state';

// How a WeCom approval request is made (applyevent), decided, withdrawn, deleted, paid and
// commented on. Each action answers the StatuChangeEvent its sys_approval_change event carries.

/** ApprovalInfo.StatuChangeEvent: what happened to the request. */
export const StatuChangeEvent = {
  submitted: 1,
  approved: 2,
  rejected: 3,
  /** 转审: an approver handed their task to someone else. */
  transferred: 4,
  revoked: 6,
  revokedAfterApproval: 8,
  commented: 10,
} as const;

/** applyevent's summary_list: at most 3 lines of at most 20 characters each. */
export const SUMMARY_LINE_MAX = 20;

const userIds = z.array(z.string().min(1)).min(1);
export const applyEventRequestSchema = z.object({
  creator_userid: z.string().min(1),
  template_id: z.string().min(1),
  use_template_approver: z.union([z.literal(0), z.literal(1)]),
  choose_department: z.number().int().optional(),
  /** Current shape: type 1 approver, 2 cc, 3 handler; apv_rel 1 all (会签), 2 any one (或签), 3 one after another. */
  process: z
    .object({
      node_list: z
        .array(
          z.object({
            type: z.union([z.literal(1), z.literal(2), z.literal(3)]),
            apv_rel: z
              .union([z.literal(1), z.literal(2), z.literal(3)])
              .optional(),
            userid: userIds,
          }),
        )
        .min(1),
    })
    .optional(),
  /** Older shape: attr 1 any one (或签), 2 all (会签). */
  approver: z
    .array(
      z.object({
        attr: z.union([z.literal(1), z.literal(2)]).optional(),
        userid: userIds,
      }),
    )
    .optional(),
  notifyer: z.array(z.string().min(1)).optional(),
  notify_type: z.union([z.literal(1), z.literal(2)]).optional(),
  apply_data: z.object({
    contents: z.array(
      z.object({
        control: z.string().min(1),
        id: z.string().min(1),
        title: z
          .array(z.object({ text: z.string(), lang: z.string() }))
          .optional(),
        value: z.looseObject({ text: z.string().optional() }),
      }),
    ),
  }),
  summary_list: z
    .array(
      z.object({
        summary_info: z
          .array(
            z.object({
              // The documentation allows at most 20 characters a line.
              text: z
                .string()
                .min(1)
                .refine(
                  text => [...text].length <= SUMMARY_LINE_MAX,
                  `summary_info text longer than ${SUMMARY_LINE_MAX} characters`,
                ),
              lang: z.string().min(1),
            }),
          )
          .min(1),
      }),
    )
    .min(1)
    .max(3),
});
export type ApplyEventRequest = z.infer<typeof applyEventRequestSchema>;

/** The approver nodes of a request; apv_rel 3 (one after another) becomes one single-approver node each. */
function approverNodes(
  request: ApplyEventRequest,
): Array<{ apvRel: ApvRel; userIds: string[] }> {
  if (request.use_template_approver === 1) {
    throw applyInvalid(
      `template ${request.template_id} has no approval flow of its own in the sandbox: pass use_template_approver 0 and the approvers`,
    );
  }
  if (request.process) {
    return request.process.node_list.flatMap((node, index) => {
      if (node.type === 2) return [];
      if (node.type === 3)
        throw applyInvalid(
          `process.node_list[${index}]: handler nodes (type 3) are not supported by the sandbox`,
        );
      const users = [...new Set(node.userid)];
      if (node.apv_rel === 3)
        return users.map(userId => ({ apvRel: 2 as const, userIds: [userId] }));
      return [{ apvRel: node.apv_rel ?? 2, userIds: users }];
    });
  }
  return (request.approver ?? []).map(node => ({
    apvRel: node.attr === 2 ? 1 : 2,
    userIds: [...new Set(node.userid)],
  }));
}

export function createInstance(
  state: WecomState,
  agentId: number,
  request: ApplyEventRequest,
  now: number,
) {
  const template = state.templates.get(request.template_id);
  if (!template)
    throw applyInvalid(`template_id ${request.template_id} does not exist`);
  if (!state.users.has(request.creator_userid)) {
    throw applyInvalid(
      `creator_userid ${request.creator_userid} is not a member inside the app's visible range`,
    );
  }
  const contents = request.apply_data.contents.map((entry, index) => {
    const control = template.controls.find(
      candidate => candidate.id === entry.id,
    );
    if (!control)
      throw applyInvalid(
        `apply_data.contents[${index}].id: template ${template.templateId} has no control ${entry.id}`,
      );
    if (control.control !== entry.control) {
      throw applyInvalid(
        `apply_data.contents[${index}].control: control ${entry.id} is ${control.control}, not ${entry.control}`,
      );
    }
    if (entry.value.text === undefined)
      throw applyInvalid(
        `apply_data.contents[${index}].value.text: a ${control.control} control takes value.text`,
      );
    return {
      control: control.control,
      id: control.id,
      title: control.title,
      text: entry.value.text,
    };
  });
  const missing = template.controls.filter(
    control =>
      control.required &&
      !contents.some(
        content => content.id === control.id && content.text !== '',
      ),
  );
  if (missing.length > 0) {
    throw applyInvalid(
      `apply_data.contents: required control ${missing.map(control => `${control.id} ("${control.title}")`).join(', ')} has no value`,
    );
  }
  const nodes = approverNodes(request);
  if (nodes.length === 0)
    throw applyInvalid(
      'process.node_list: give at least one approver node (type 1)',
    );
  const notifyer = [
    ...(request.notifyer ?? []),
    ...(request.process?.node_list
      .filter(node => node.type === 2)
      .flatMap(node => node.userid) ?? []),
  ];
  const unknown = [...nodes.flatMap(node => node.userIds), ...notifyer].find(
    userId => !state.users.has(userId),
  );
  if (unknown !== undefined)
    throw applyInvalid(
      `userid ${unknown} is not a member inside the app's visible range`,
    );

  const flowNodes: FlowNode[] = nodes.map(node => ({
    mode: node.apvRel === 1 ? 'AND' : 'OR',
    approvers: node.userIds,
  }));
  const flow = new ApprovalFlow(flowNodes, state.nextTaskId);
  flow.start(now);
  const instance: WecomInstance = {
    spNo: state.newSpNo(now),
    templateId: template.templateId,
    spName: template.name,
    agentId,
    applicant: request.creator_userid,
    applyTime: now,
    contents,
    summary: request.summary_list.map(line => line.summary_info[0].text),
    nodes,
    notifyer: [...new Set(notifyer)],
    flow,
    spStatus: 1,
    comments: [],
  };
  state.instances.set(instance.spNo, instance);
  state.stats.instanceCreates += 1;
  return { instance, change: StatuChangeEvent.submitted };
}

const FLOW_SP_STATUS = {
  PENDING: 1,
  APPROVED: 2,
  REJECTED: 3,
  CANCELED: 4,
} as const;

export function decide(
  instance: WecomInstance,
  decision: Decision,
  now: number,
): number {
  if (instance.spStatus !== 1) {
    throw new DecisionError(
      409,
      `request ${instance.spNo} has sp_status ${instance.spStatus}; only a pending request (1) can be decided`,
    );
  }
  instance.flow.decide(instance.spNo, decision, now);
  instance.spStatus = FLOW_SP_STATUS[instance.flow.status];
  return decision.decision === 'approve'
    ? StatuChangeEvent.approved
    : StatuChangeEvent.rejected;
}

export const transferRequestSchema = z.strictObject({
  /** The approver whose pending task is handed on. */
  fromUserId: z.string().min(1),
  toUserId: z.string().min(1),
  speech: z.string().optional(),
});
export type TransferRequest = z.infer<typeof transferRequestSchema>;

/**
 * An approver hands their pending task to someone else (转审): their detail reads sp_yj 4 with
 * their speech, and the other person is listed after them in the node, deciding in their place.
 */
export function transfer(
  state: WecomState,
  instance: WecomInstance,
  request: TransferRequest,
  now: number,
): number {
  if (instance.spStatus !== 1)
    throw new DecisionError(
      409,
      `request ${instance.spNo} has sp_status ${instance.spStatus}; only a pending request (1) can be handed on`,
    );
  if (!state.users.has(request.toUserId))
    throw new DecisionError(
      404,
      `${request.toUserId} is not a member of the corp`,
    );
  instance.flow.transfer(
    instance.spNo,
    { from: request.fromUserId, to: request.toUserId, comment: request.speech },
    now,
  );
  return StatuChangeEvent.transferred;
}

/** A node's approvers as WeCom lists them: those asked, then those their tasks were handed to. */
export function nodeApprovers(
  instance: WecomInstance,
  index: number,
): string[] {
  const asked = instance.nodes[index]!.userIds;
  const handedTo = instance.flow.tasks
    .filter(task => task.node === index && !asked.includes(task.userId))
    .map(task => task.userId);
  return [...new Set([...asked, ...handedTo])];
}

/**
 * What people do to a request after (or instead of) the approvers, in the WeCom app: the applicant
 * withdraws it (4 while pending, 6 once approved), an admin deletes it (7), finance pays it (10).
 * Answers the StatuChangeEvent to announce, or undefined when WeCom announces nothing known.
 */
export function changeStatus(
  instance: WecomInstance,
  spStatus: 4 | 6 | 7 | 10,
  now: number,
): number | undefined {
  const refuse = (needed: string) => {
    throw new DecisionError(
      409,
      `request ${instance.spNo} has sp_status ${instance.spStatus}; sp_status ${spStatus} needs ${needed}`,
    );
  };
  if (spStatus === 4 && instance.spStatus !== 1)
    refuse('a pending request (1)');
  if ((spStatus === 6 || spStatus === 10) && instance.spStatus !== 2)
    refuse('an approved request (2)');
  if (spStatus === 7 && instance.spStatus === 7)
    refuse('a request not deleted yet');
  if (instance.flow.status === 'PENDING')
    instance.flow.cancel(instance.spNo, now, instance.applicant);
  instance.spStatus = spStatus;
  if (spStatus === 4) return StatuChangeEvent.revoked;
  return spStatus === 6 ? StatuChangeEvent.revokedAfterApproval : undefined;
}

export function addComment(
  state: WecomState,
  instance: WecomInstance,
  userId: string,
  content: string,
  now: number,
): number {
  if (!state.users.has(userId))
    throw new DecisionError(404, `user ${userId} not found`);
  instance.comments.push({
    commentId: `${instance.spNo}${instance.comments.length + 1}`,
    userId,
    time: now,
    content,
  });
  return StatuChangeEvent.commented;
}

/** One approver node as the detail and the events report it: sp_status 1 pending, 2 approved, 3 rejected. */
export interface SpRecord {
  spStatus: 1 | 2 | 3;
  /** 1 any one (或签), 2 all (会签). */
  approverAttr: 1 | 2;
  details: Array<{
    userId: string;
    speech: string;
    spStatus: 1 | 2 | 3 | 4;
    spTime: number;
  }>;
}

/** An approver detail's sp_status for its task's status (4: 已转审, handed to someone else). */
const DETAIL_SP_STATUS = {
  PENDING: 1,
  APPROVED: 2,
  REJECTED: 3,
  DONE: 1,
  TRANSFERRED: 4,
} as const;

/** WeCom's times are Unix seconds. */
export const seconds = (ms: number) => Math.floor(ms / 1000);

export function spRecords(instance: WecomInstance): SpRecord[] {
  return instance.nodes.map((node, index) => {
    const details = nodeApprovers(instance, index).map(userId => {
      const task = instance.flow.tasks.find(
        candidate => candidate.node === index && candidate.userId === userId,
      );
      // Not reached, waiting, or closed by another approver's decision: no decision of its own (1).
      const spStatus = task ? DETAIL_SP_STATUS[task.status] : 1;
      return {
        userId,
        speech: task?.comment ?? '',
        spStatus,
        spTime:
          spStatus === 1 || task?.endTime === undefined
            ? 0
            : seconds(task.endTime),
      } as const;
    });
    // A task handed on (4) is decided by the one it went to.
    const deciding = details.filter(detail => detail.spStatus !== 4);
    const approved =
      node.apvRel === 1
        ? deciding.every(detail => detail.spStatus === 2)
        : deciding.some(detail => detail.spStatus === 2);
    let spStatus: SpRecord['spStatus'] = approved ? 2 : 1;
    if (details.some(detail => detail.spStatus === 3)) spStatus = 3;
    return { spStatus, approverAttr: node.apvRel === 1 ? 2 : 1, details };
  });
}

export function templateNotFound(templateId: string): WecomApiError {
  return new WecomApiError(
    WecomCode.invalidParameter,
    `invalid template_id ${templateId}`,
  );
}
