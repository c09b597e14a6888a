import type {
  ApprovalFlow,
  FlowStatus,
  FlowTaskStatus,
} from '../flow/approvalFlow';

// The in-memory shapes of a Feishu tenant. Field values (status names, node types) are the
// platform's own, so the API layer can hand them out unchanged.

export interface FeishuApp {
  appId: string;
  appSecret: string;
  verificationToken: string;
  encryptKey?: string;
  callbackUrl?: string;
  /** Where clicks on its cards are sent (the card request URL). */
  cardCallbackUrl?: string;
  callbacks: 'on' | 'off';
  /** How its events arrive: pushed to callbackUrl, or over the long connection its client holds. */
  mode: 'callback' | 'long-connection';
  /** approval_codes this app called subscribe for: it receives their v1 events, no others. */
  subscriptions: Set<string>;
  /**
   * Whether it holds a scope that lets it create and update approval definitions
   * (approval:approval or approval:definition); instances it may create either way.
   */
  definitionWrite: boolean;
}

export interface FeishuUser {
  openId: string;
  userId: string;
  name: string;
  email?: string;
  mobile?: string;
}

export interface ApprovalWidget {
  id: string;
  name: string;
  type: string;
  required: boolean;
}

export interface ApprovalNode {
  nodeId: string;
  customNodeId?: string;
  name: string;
  type: 'AND' | 'OR';
  needApprover: boolean;
  /** The definition's approver_chosen_multi: false when the initiator may choose only one approver. */
  approverChosenMulti: boolean;
}

export interface ApprovalDefinition {
  approvalCode: string;
  name: string;
  form: ApprovalWidget[];
  nodes: ApprovalNode[];
  allowRevoke: boolean;
}

export type InstanceStatus = FlowStatus;
export type TaskStatus = FlowTaskStatus;
export type TimelineType =
  'START' | 'PASS' | 'REJECT' | 'CANCEL' | 'CC' | 'TRANSFER' | 'ADD_APPROVER';

export interface FormValue {
  id: string;
  name: string;
  type: string;
  value: unknown;
}

/** An approver node of one instance, with the approvers the initiator chose for it. */
export interface InstanceNode extends ApprovalNode {
  approvers: string[];
}

export interface TimelineEntry {
  type: TimelineType;
  openId: string;
  createTime: number;
  comment?: string;
  nodeId?: string;
  taskId?: string;
  /** A CC entry's recipients (open_ids); its openId is who sent the CC. */
  ccOpenIds?: string[];
  /** Whom a TRANSFER handed the task to, or an ADD_APPROVER added (open_ids); its openId is who did. */
  toOpenIds?: string[];
}

export interface Instance {
  instanceCode: string;
  approvalCode: string;
  approvalName: string;
  /** The app that created it. */
  appId: string;
  uuid?: string;
  title?: string;
  serialNumber: string;
  initiator: string;
  form: FormValue[];
  nodes: InstanceNode[];
  /**
   * The approver nodes walked in order, in the shared flow: its status, tasks (a task's userId is
   * an open_id, its node an index into nodes; a task exists only once its node is reached) and
   * endTime are the instance's.
   */
  flow: ApprovalFlow;
  startTime: number;
  timeline: TimelineEntry[];
}

/** One status change, in the order Feishu reports them; each becomes a v1 event. */
export type InstanceChange =
  | {
      kind: 'task';
      taskId: string;
      openId: string;
      nodeId: string;
      status: TaskStatus;
      at: number;
    }
  | { kind: 'instance'; status: InstanceStatus; at: number };
