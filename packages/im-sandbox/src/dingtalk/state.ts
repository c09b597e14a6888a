import {
  restoreTable,
  type StateSnapshot,
  withRestoredFlow,
} from '../persistence/snapshot';
import { randomBytes } from 'node:crypto';
import type { ApprovalFlow } from '../flow/approvalFlow';
import { type ApiCounts, emptyApiCounts } from '../platform/apiCounts';
import { findByMobile } from '../platform/contacts';
import { Faults } from '../platform/faults';
import { Tokens } from '../platform/tokens';
import {
  dingtalkCardTemplateSeedSchema,
  dingtalkChatSeedSchema,
  type DingtalkAppSeed,
  type DingtalkCardTemplate,
  type DingtalkChat,
  type DingtalkComponentType,
  type DingtalkFormSeed,
  type DingtalkSeed,
  type DingtalkUserSeed,
} from './seed';

export type { DingtalkCardTemplate, DingtalkChat };

// Everything one DingTalk corp knows, in memory.

export const DINGTALK_FAULT_ROUTES = [
  'token',
  'oapi.token',
  'form.get',
  'form.save',
  'instance.create',
  'instance.list',
  'instance.get',
  'instance.terminate',
  'user.getbymobile',
  'user.get',
  'gateway.open',
  'message.send',
  'card.deliver',
  'card.update',
  'task.execute',
] as const;
export type DingtalkFaultRoute = (typeof DINGTALK_FAULT_ROUTES)[number];

/** The permissions ("权限点") the sandbox checks; an app has them all unless one is taken away. */
export const DINGTALK_PERMISSIONS = [
  'Workflow.Form.Write',
  'Card.Instance.Write',
] as const;
export type DingtalkPermission = (typeof DINGTALK_PERMISSIONS)[number];

export interface DingtalkApp extends Omit<DingtalkAppSeed, 'mode'> {
  mode: 'callback' | 'stream';
  callbacks: 'on' | 'off';
  /** Taken away in the developer console (absent in state files from before permissions). */
  revokedPermissions?: DingtalkPermission[];
}

export type DingtalkUser = DingtalkUserSeed;

export interface DingtalkComponent {
  componentType: DingtalkComponentType;
  id: string;
  label: string;
  required: boolean;
  /** A TableField's columns. */
  children?: DingtalkComponent[];
}

export type DingtalkForm = Required<
  Pick<DingtalkFormSeed, 'processCode' | 'name'>
> & {
  description?: string;
  /** The app that created it by API; absent for forms made in the console (seeded). */
  createdByApp?: string;
  components: DingtalkComponent[];
};

export type ActionType = 'AND' | 'OR' | 'NONE';

export interface OperationRecord {
  userId: string;
  date: number;
  type:
    | 'START_PROCESS_INSTANCE'
    | 'EXECUTE_TASK_NORMAL'
    | 'REDIRECT_TASK'
    | 'APPEND_TASK_BEFORE'
    | 'TERMINATE_PROCESS_INSTANCE';
  result: 'AGREE' | 'REFUSE' | 'NONE';
  remark?: string;
}

export interface DingtalkInstance {
  processInstanceId: string;
  processCode: string;
  formName: string;
  /** The app that created it. */
  appKey: string;
  originatorUserId: string;
  businessId: string;
  formComponentValues: Array<{
    id: string;
    name: string;
    componentType: string;
    value: string;
  }>;
  approvers: Array<{ actionType: ActionType; userIds: string[] }>;
  flow: ApprovalFlow;
  /** Set by terminate; the flow then reads CANCELED. */
  terminated: boolean;
  createTime: number;
  operationRecords: OperationRecord[];
  /** 抄送: told of the instance, who can see it but not decide (absent in state files from before CC). */
  ccUserIds?: string[];
  ccPosition?: 'START' | 'FINISH' | 'START_FINISH';
}

/** A work notice (工作通知) as one person received it from an app. */
export interface WorkNotice {
  taskId: number;
  appKey: string;
  agentId: number;
  userId: string;
  msg: Record<string, unknown>;
  at: number;
}

/** An interactive card an app delivered to a group chat. */
export interface DingtalkCard {
  outTrackId: string;
  appKey: string;
  templateId: string;
  chatId: string;
  /** What everyone sees. */
  data: Record<string, string>;
  /** What one user sees over it, by user id. */
  privateData: Record<string, Record<string, string>>;
  callbackType: 'STREAM' | 'HTTP';
  createdAt: number;
}

/** Calls a second per app and API that DingTalk's standard edition allows. */
export const DINGTALK_STANDARD_QPS = 20;

export class DingtalkState {
  readonly corpId: string;
  readonly apps = new Map<string, DingtalkApp>();
  readonly users = new Map<string, DingtalkUser>();
  readonly forms = new Map<string, DingtalkForm>();
  readonly instances = new Map<string, DingtalkInstance>();
  /** Group chats by openConversationId. */
  readonly chats = new Map<string, DingtalkChat>();
  readonly cardTemplates = new Map<string, DingtalkCardTemplate>();
  /** Cards by outTrackId. */
  readonly cards = new Map<string, DingtalkCard>();
  /** Work notices by recipient, oldest first. */
  readonly notices = new Map<string, WorkNotice[]>();
  readonly tokens = new Tokens();
  readonly faults = new Faults<DingtalkFaultRoute>();
  stats: ApiCounts & { rateLimited: number } = {
    ...emptyApiCounts(),
    rateLimited: 0,
  };
  /**
   * The new API's flow control: at most this many calls a second per app and API, over it HTTP 403
   * Forbidden.AccessDenied.QpsLimitForAppkeyAndApi. DingTalk's standard edition allows 20 ("调用频次
   * 与限流"); undefined turns it off.
   */
  qpsPerApi: number | undefined = DINGTALK_STANDARD_QPS;
  private qpsCalls = new Map<string, number[]>();

  /** A new limit starts with a clean second, whatever was called before it. */
  setQpsPerApi(limit: number | undefined): void {
    this.qpsPerApi = limit;
    this.qpsCalls.clear();
  }

  /** Counts a call of `route` by `appKey` at `now`; false when that second's budget is spent. */
  takeQps(appKey: string, route: string, now: number): boolean {
    if (this.qpsPerApi === undefined) return true;
    const key = `${appKey} ${route}`;
    const recent = (this.qpsCalls.get(key) ?? []).filter(at => at > now - 1000);
    if (recent.length >= this.qpsPerApi) {
      this.qpsCalls.set(key, recent);
      return false;
    }
    recent.push(now);
    this.qpsCalls.set(key, recent);
    return true;
  }
  private taskCounter = 0;
  private noticeCounter = 0;

  nextNoticeId = (): number => {
    this.noticeCounter += 1;
    return 300_000_000 + this.noticeCounter;
  };

  constructor(seed: DingtalkSeed = {}) {
    this.corpId = seed.corpId ?? 'dingsandboxcorp';
    seed.apps?.forEach(app => this.upsertApp(app));
    seed.users?.forEach(user => this.upsertUser(user));
    seed.forms?.forEach(form => this.upsertForm(form));
    seed.chats?.forEach(chat =>
      this.upsertChat(dingtalkChatSeedSchema.parse(chat)),
    );
    seed.cardTemplates?.forEach(template =>
      this.upsertCardTemplate(dingtalkCardTemplateSeedSchema.parse(template)),
    );
  }

  upsertChat(chat: DingtalkChat): DingtalkChat {
    this.chats.set(chat.openConversationId, chat);
    return chat;
  }

  upsertCardTemplate(template: DingtalkCardTemplate): DingtalkCardTemplate {
    this.cardTemplates.set(template.templateId, template);
    return template;
  }

  /** Replaces the app's settings; its events switch and revoked permissions survive. */
  upsertApp(seed: DingtalkAppSeed): DingtalkApp {
    const app: DingtalkApp = {
      ...seed,
      mode: seed.mode ?? 'callback',
      callbacks: this.apps.get(seed.appKey)?.callbacks ?? 'on',
      revokedPermissions: this.apps.get(seed.appKey)?.revokedPermissions ?? [],
    };
    this.apps.set(app.appKey, app);
    return app;
  }

  upsertUser(seed: DingtalkUserSeed): DingtalkUser {
    this.users.set(seed.userId, { ...seed });
    return seed;
  }

  upsertForm(seed: DingtalkFormSeed): DingtalkForm {
    const form: DingtalkForm = {
      processCode: seed.processCode,
      name: seed.name,
      components: seed.components.map(component => ({
        ...component,
        required: component.required ?? false,
      })),
    };
    this.forms.set(form.processCode, form);
    return form;
  }

  /**
   * The lookup by mobile takes the number as members' mobiles are kept: a mainland number as bare
   * digits, others as +<code><number>; with +86, spaces or dashes it finds nobody.
   */
  userByMobile(mobile: string): DingtalkUser | undefined {
    if (!/^(\d+|\+\d+)$/.test(mobile) || mobile.startsWith('+86'))
      return undefined;
    return findByMobile(this.users.values(), mobile);
  }

  nextTaskId = (): string => {
    this.taskCounter += 1;
    return String(60_000_000_000 + this.taskCounter);
  };

  /** DingTalk instance ids are opaque 22-character strings. */
  newInstanceId(): string {
    return randomBytes(16).toString('base64url').slice(0, 22);
  }

  snapshot(): StateSnapshot {
    return {
      tables: {
        apps: [...this.apps],
        users: [...this.users],
        forms: [...this.forms],
        instances: [...this.instances],
        notices: [...this.notices],
        chats: [...this.chats],
        cardTemplates: [...this.cardTemplates],
        cards: [...this.cards],
      },
      counters: { task: this.taskCounter, notice: this.noticeCounter },
    };
  }

  restore(snapshot: StateSnapshot): void {
    restoreTable(this.apps, snapshot.tables.apps);
    restoreTable(this.users, snapshot.tables.users);
    restoreTable(this.forms, snapshot.tables.forms);
    restoreTable(this.instances, snapshot.tables.instances, instance =>
      withRestoredFlow(instance, this.nextTaskId),
    );
    restoreTable(this.notices, snapshot.tables.notices);
    restoreTable(this.chats, snapshot.tables.chats);
    restoreTable(this.cardTemplates, snapshot.tables.cardTemplates);
    restoreTable(this.cards, snapshot.tables.cards);
    this.taskCounter = snapshot.counters.task ?? 0;
    this.noticeCounter = snapshot.counters.notice ?? 0;
  }

  /** What clients did goes: their instances and the forms they made by API; revoked permissions come back. */
  reset(): void {
    this.instances.clear();
    this.notices.clear();
    this.cards.clear();
    for (const [processCode, form] of this.forms)
      if (form.createdByApp !== undefined) this.forms.delete(processCode);
    for (const app of this.apps.values()) app.revokedPermissions = [];
    this.faults.reset();
    this.qpsPerApi = DINGTALK_STANDARD_QPS;
    this.qpsCalls.clear();
    this.stats = { ...emptyApiCounts(), rateLimited: 0 };
  }
}
