// The approval flow DingTalk and WeCom instances follow: approver nodes walked in order, each
// needing all of its approvers (AND) or any one (OR); a rejection ends the instance. A node's
// tasks exist only once it is reached. Each operation returns the changes it made, in order, for
// the IM to announce in its own event format.

/** Why a person's decision cannot be applied; the control API maps it to an HTTP status. */
export class DecisionError extends Error {
  constructor(
    readonly status: 404 | 409,
    message: string,
  ) {
    super(message);
    this.name = 'DecisionError';
  }
}

export interface Decision {
  decision: 'approve' | 'reject';
  /** Who decides; by default the first approver with a pending task. */
  userId?: string;
  comment?: string;
}

export type FlowMode = 'AND' | 'OR';
export type FlowStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'CANCELED';
/**
 * DONE: closed without a decision of its own (another approver settled the node, or the instance
 * ended). TRANSFERRED: its approver handed it to someone else, whose new task of the node decides.
 */
export type FlowTaskStatus =
  'PENDING' | 'APPROVED' | 'REJECTED' | 'DONE' | 'TRANSFERRED';

export interface FlowNode {
  mode: FlowMode;
  approvers: string[];
}

export interface FlowTask {
  id: string;
  userId: string;
  node: number;
  status: FlowTaskStatus;
  startTime: number;
  endTime?: number;
  comment?: string;
  /** For a TRANSFERRED task: who it went to. */
  transferredTo?: string;
}

export type FlowChange =
  | { kind: 'task'; task: FlowTask; status: FlowTaskStatus; at: number }
  | {
      kind: 'instance';
      status: FlowStatus;
      at: number;
      by?: string;
      comment?: string;
    };

export class ApprovalFlow {
  readonly tasks: FlowTask[] = [];
  status: FlowStatus = 'PENDING';
  endTime?: number;

  constructor(
    readonly nodes: FlowNode[],
    private readonly nextTaskId: () => string,
  ) {}

  /** A flow as a sandbox state file kept it (its JSON: nodes, tasks, status, endTime), running again. */
  static restore(
    saved: Pick<ApprovalFlow, 'nodes' | 'tasks' | 'status' | 'endTime'>,
    nextTaskId: () => string,
  ): ApprovalFlow {
    const flow = new ApprovalFlow(saved.nodes, nextTaskId);
    flow.tasks.push(...saved.tasks);
    flow.status = saved.status;
    flow.endTime = saved.endTime;
    return flow;
  }

  /** The instance starts: its first node's tasks are created. */
  start(now: number): FlowChange[] {
    return [
      { kind: 'instance', status: 'PENDING', at: now },
      ...this.startNode(0, now),
    ];
  }

  pendingApprovers(): string[] {
    return this.tasks
      .filter(task => task.status === 'PENDING')
      .map(task => task.userId);
  }

  decide(instanceId: string, decision: Decision, now: number): FlowChange[] {
    if (this.status !== 'PENDING') {
      throw new DecisionError(
        409,
        `instance ${instanceId} is ${this.status}; only a pending instance can be decided`,
      );
    }
    const pending = this.tasks.filter(task => task.status === 'PENDING');
    const task =
      decision.userId === undefined
        ? pending[0]
        : pending.find(candidate => candidate.userId === decision.userId);
    if (!task) {
      const approvers = pending.map(candidate => candidate.userId).join(', ');
      throw new DecisionError(
        409,
        `${decision.userId} has no pending task on instance ${instanceId}; pending approvers: ${approvers}`,
      );
    }
    const approved = decision.decision === 'approve';
    task.comment = decision.comment;
    const changes = [
      this.finishTask(task, approved ? 'APPROVED' : 'REJECTED', now),
    ];

    const node = this.nodes[task.node];
    // A transferred task is decided by the task it became.
    const nodeTasks = this.tasks.filter(
      candidate =>
        candidate.node === task.node && candidate.status !== 'TRANSFERRED',
    );
    const nodeDone =
      !approved ||
      node.mode === 'OR' ||
      nodeTasks.every(candidate => candidate.status === 'APPROVED');
    if (!nodeDone) return changes;
    changes.push(...this.closeOpenTasks(now));
    if (approved && task.node + 1 < this.nodes.length)
      return [...changes, ...this.startNode(task.node + 1, now)];
    return [
      ...changes,
      this.finish(
        approved ? 'APPROVED' : 'REJECTED',
        now,
        task.userId,
        decision.comment,
      ),
    ];
  }

  /**
   * An approver hands their pending task to someone else (Feishu's transfer, DingTalk's 转交, WeCom's
   * 转审): their task ends as TRANSFERRED and the other person gets a task of the same node, whose
   * decision counts in their place.
   */
  transfer(
    instanceId: string,
    request: { from: string; to: string; comment?: string },
    now: number,
  ): FlowChange[] {
    const task = this.handingOver(instanceId, request.from, [request.to]);
    task.comment = request.comment;
    task.transferredTo = request.to;
    const node = this.nodes[task.node];
    node.approvers = node.approvers.map(userId =>
      userId === request.from ? request.to : userId,
    );
    const handed: FlowTask = {
      id: this.nextTaskId(),
      userId: request.to,
      node: task.node,
      status: 'PENDING',
      startTime: now,
    };
    this.tasks.push(handed);
    return [
      this.finishTask(task, 'TRANSFERRED', now),
      { kind: 'task', task: handed, status: 'PENDING', at: now },
    ];
  }

  /**
   * An approver asks more people to decide their node with them (Feishu's 并加签, DingTalk's 加签):
   * each gets a pending task of the node, which then needs them as its mode says (all of them for
   * AND, any one for OR).
   */
  addApprovers(
    instanceId: string,
    request: { by: string; add: string[] },
    now: number,
  ): FlowChange[] {
    const task = this.handingOver(instanceId, request.by, request.add);
    const node = this.nodes[task.node];
    return [...new Set(request.add)].map(userId => {
      node.approvers = [...node.approvers, userId];
      const added: FlowTask = {
        id: this.nextTaskId(),
        userId,
        node: task.node,
        status: 'PENDING',
        startTime: now,
      };
      this.tasks.push(added);
      return { kind: 'task', task: added, status: 'PENDING', at: now };
    });
  }

  /**
   * The pending task `by` hands over or shares with `to`: the instance must be pending, `by` must
   * have a pending task, and none of `to` may have one already.
   */
  private handingOver(instanceId: string, by: string, to: string[]): FlowTask {
    if (this.status !== 'PENDING')
      throw new DecisionError(
        409,
        `instance ${instanceId} is ${this.status}; only a pending instance's task can be handed over`,
      );
    const pending = this.pendingApprovers();
    const task = this.tasks.find(
      candidate => candidate.status === 'PENDING' && candidate.userId === by,
    );
    if (!task)
      throw new DecisionError(
        409,
        `${by} has no pending task on instance ${instanceId}; pending approvers: ${pending.join(', ')}`,
      );
    const already = to.find(userId => pending.includes(userId));
    if (already !== undefined)
      throw new DecisionError(
        409,
        `${already} already has a pending task on instance ${instanceId}`,
      );
    return task;
  }

  /** The initiator or the system withdraws a pending instance. */
  cancel(
    instanceId: string,
    now: number,
    by?: string,
    comment?: string,
  ): FlowChange[] {
    if (this.status !== 'PENDING') {
      throw new DecisionError(
        409,
        `instance ${instanceId} is ${this.status}; only a pending instance can be canceled`,
      );
    }
    return [
      ...this.closeOpenTasks(now),
      this.finish('CANCELED', now, by, comment),
    ];
  }

  private startNode(index: number, now: number): FlowChange[] {
    return this.nodes[index].approvers.map(userId => {
      const task: FlowTask = {
        id: this.nextTaskId(),
        userId,
        node: index,
        status: 'PENDING',
        startTime: now,
      };
      this.tasks.push(task);
      return { kind: 'task', task, status: 'PENDING', at: now };
    });
  }

  private finishTask(
    task: FlowTask,
    status: FlowTaskStatus,
    now: number,
  ): FlowChange {
    task.status = status;
    task.endTime = now;
    return { kind: 'task', task, status, at: now };
  }

  private closeOpenTasks(now: number): FlowChange[] {
    return this.tasks
      .filter(task => task.status === 'PENDING')
      .map(task => this.finishTask(task, 'DONE', now));
  }

  private finish(
    status: FlowStatus,
    now: number,
    by?: string,
    comment?: string,
  ): FlowChange {
    this.status = status;
    this.endTime = now;
    return { kind: 'instance', status, at: now, by, comment };
  }
}
