import type { FeishuApp, Instance, InstanceStatus, TaskStatus } from './model';
import type { FeishuState } from './state';

// How the sandbox shows its Feishu state to people and tests (control API, inbox page):
// camelCase, names resolved, ISO times — unlike the open API, which speaks Feishu's wire format.

export interface ApproverView {
  openId: string;
  name: string;
  nodeId: string;
  customNodeId: string | null;
  nodeName: string;
  nodeType: 'AND' | 'OR';
  taskId: string | null;
  /** WAITING: the node is not reached yet, so Feishu has no task for this approver. */
  status: TaskStatus | 'WAITING';
}

export interface InstanceView {
  instanceCode: string;
  approvalCode: string;
  approvalName: string;
  appId: string;
  title: string | null;
  status: InstanceStatus;
  uuid: string | null;
  serialNumber: string;
  initiatorOpenId: string;
  initiatorName: string;
  form: Array<{ id: string; name: string; type: string; value: unknown }>;
  approvers: ApproverView[];
  /** Everyone the instance was CC'd to: they can read it, never decide it. */
  cc: Array<{ openId: string; name: string }>;
  createdAt: string;
  endedAt: string | null;
  timeline: Array<{
    type: string;
    openId: string;
    name: string;
    comment: string | null;
    at: string;
    nodeId: string | null;
    cc: string[];
    /** Whom a TRANSFER handed the task to. */
    to: string[];
  }>;
}

export function instanceView(
  state: FeishuState,
  instance: Instance,
): InstanceView {
  const nameOf = (openId: string) => state.users.get(openId)?.name ?? openId;
  return {
    instanceCode: instance.instanceCode,
    approvalCode: instance.approvalCode,
    approvalName: instance.approvalName,
    appId: instance.appId,
    title: instance.title ?? null,
    status: instance.flow.status,
    uuid: instance.uuid ?? null,
    serialNumber: instance.serialNumber,
    initiatorOpenId: instance.initiator,
    initiatorName: nameOf(instance.initiator),
    form: instance.form.map(({ id, name, type, value }) => ({
      id,
      name,
      type,
      value,
    })),
    approvers: instance.nodes.flatMap((node, index) =>
      node.approvers.map(openId => {
        const task = instance.flow.tasks.find(
          candidate => candidate.node === index && candidate.userId === openId,
        );
        return {
          openId,
          name: nameOf(openId),
          nodeId: node.nodeId,
          customNodeId: node.customNodeId ?? null,
          nodeName: node.name,
          nodeType: node.type,
          taskId: task?.id ?? null,
          status: task?.status ?? 'WAITING',
        };
      }),
    ),
    cc: [
      ...new Set(instance.timeline.flatMap(entry => entry.ccOpenIds ?? [])),
    ].map(openId => ({ openId, name: nameOf(openId) })),
    createdAt: new Date(instance.startTime).toISOString(),
    endedAt:
      instance.flow.endTime === undefined
        ? null
        : new Date(instance.flow.endTime).toISOString(),
    timeline: instance.timeline.map(entry => ({
      type: entry.type,
      openId: entry.openId,
      name: nameOf(entry.openId),
      comment: entry.comment ?? null,
      at: new Date(entry.createTime).toISOString(),
      nodeId: entry.nodeId ?? null,
      cc: entry.ccOpenIds ?? [],
      to: entry.toOpenIds ?? [],
    })),
  };
}

export function appView(app: FeishuApp) {
  return {
    appId: app.appId,
    callbackUrl: app.callbackUrl ?? null,
    cardCallbackUrl: app.cardCallbackUrl ?? null,
    callbacks: app.callbacks,
    mode: app.mode,
    encrypted: app.encryptKey !== undefined,
    definitionWrite: app.definitionWrite,
    subscriptions: [...app.subscriptions],
  };
}
