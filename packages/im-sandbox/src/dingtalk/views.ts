import type {
  DingtalkApp,
  DingtalkForm,
  DingtalkInstance,
  DingtalkState,
  WorkNotice,
} from './state';
import { instanceResult, instanceStatus } from './workflow';

// How the sandbox shows its DingTalk state to tests and people: camelCase, names resolved, ISO times.

export function dingtalkInstanceView(
  state: DingtalkState,
  instance: DingtalkInstance,
) {
  const nameOf = (userId: string) => state.users.get(userId)?.name ?? userId;
  return {
    processInstanceId: instance.processInstanceId,
    processCode: instance.processCode,
    formName: instance.formName,
    appKey: instance.appKey,
    status: instanceStatus(instance),
    result: instanceResult(instance),
    originatorUserId: instance.originatorUserId,
    originatorName: nameOf(instance.originatorUserId),
    form: instance.formComponentValues.map(({ name, value }) => ({
      name,
      value,
    })),
    approvers: instance.approvers.flatMap((node, index) =>
      node.userIds.map(userId => ({
        userId,
        name: nameOf(userId),
        node: index,
        actionType: node.actionType,
        status:
          instance.flow.tasks.find(
            task => task.node === index && task.userId === userId,
          )?.status ?? 'WAITING',
      })),
    ),
    cc: (instance.ccUserIds ?? []).map(userId => ({
      userId,
      name: nameOf(userId),
    })),
    ccPosition: instance.ccPosition ?? null,
    redirectedTasks: instance.flow.tasks.flatMap(task =>
      task.status === 'TRANSFERRED'
        ? [
            {
              taskId: task.id,
              from: task.userId,
              to: task.transferredTo,
              node: task.node,
              at: new Date(task.endTime!).toISOString(),
            },
          ]
        : [],
    ),
    createdAt: new Date(instance.createTime).toISOString(),
    endedAt:
      instance.flow.endTime === undefined
        ? null
        : new Date(instance.flow.endTime).toISOString(),
    operationRecords: instance.operationRecords.map(record => ({
      ...record,
      name: nameOf(record.userId),
      date: new Date(record.date).toISOString(),
      remark: record.remark ?? null,
    })),
  };
}

export function dingtalkNoticeView(state: DingtalkState, notice: WorkNotice) {
  return {
    taskId: notice.taskId,
    appKey: notice.appKey,
    agentId: notice.agentId,
    userId: notice.userId,
    name: state.users.get(notice.userId)?.name ?? notice.userId,
    msg: notice.msg,
    at: new Date(notice.at).toISOString(),
  };
}

export function dingtalkAppView(app: DingtalkApp) {
  return {
    appKey: app.appKey,
    agentId: app.agentId ?? null,
    mode: app.mode,
    callbackUrl: app.callbackUrl ?? null,
    callbacks: app.callbacks,
    revokedPermissions: app.revokedPermissions ?? [],
  };
}

export function dingtalkFormView(form: DingtalkForm) {
  return {
    processCode: form.processCode,
    name: form.name,
    description: form.description ?? null,
    createdByApp: form.createdByApp ?? null,
    components: form.components,
  };
}
