import {
  restoreTable,
  type StateSnapshot,
  withRestoredFlow,
} from '../persistence/snapshot';
import type { ApprovalFlow } from '../flow/approvalFlow';
import { type ApiCounts, emptyApiCounts } from '../platform/apiCounts';
import { findByEmail, findByMobile } from '../platform/contacts';
import { Faults } from '../platform/faults';
import { RateLimit, SlidingWindows } from '../platform/rateLimit';
import type { WecomChat } from './appchats';
import type { WecomMessage } from './messages';
import { Tokens } from '../platform/tokens';
import {
  WECOM_OA_CALLS_PER_MINUTE,
  type WecomAppSeed,
  type WecomChatSeed,
  type WecomSeed,
  type WecomTemplateSeed,
  type WecomUserSeed,
} from './seed';

// Everything one WeCom corp knows, in memory.

export const WECOM_FAULT_ROUTES = [
  'gettoken',
  'oa.gettemplatedetail',
  'oa.approval.create_template',
  'oa.approval.update_template',
  'oa.applyevent',
  'oa.getapprovalinfo',
  'oa.getapprovaldetail',
  'user.get',
  'user.get_userid_by_email',
  'user.getuserid',
  'message.send',
  'appchat.create',
  'appchat.get',
  'appchat.send',
] as const;
export type WecomFaultRoute = (typeof WECOM_FAULT_ROUTES)[number];

export interface WecomApp extends Omit<WecomAppSeed, 'approvalApi'> {
  callbacks: 'on' | 'off';
  approvalApi: boolean;
}

export type WecomUser = WecomUserSeed;
export type WecomTemplate = Pick<WecomTemplateSeed, 'templateId' | 'name'> & {
  controls: Array<{
    control: 'Text' | 'Textarea';
    id: string;
    title: string;
    required: boolean;
  }>;
  /** The app that made it with create_template, the only one that may update it; absent for console-made templates. */
  creatorAgentId?: number;
};

/** 1 pending, 2 approved, 3 rejected, 4 revoked, 6 revoked after approval, 7 deleted, 10 paid. */
export type SpStatus = 1 | 2 | 3 | 4 | 6 | 7 | 10;

/** apv_rel: 1 every approver of the node (会签), 2 any one (或签). */
export type ApvRel = 1 | 2;

export interface WecomComment {
  commentId: string;
  userId: string;
  time: number;
  content: string;
}

export interface WecomInstance {
  spNo: string;
  templateId: string;
  spName: string;
  /** The app that created it; its callback URL gets the instance's events. */
  agentId: number;
  applicant: string;
  applyTime: number;
  contents: Array<{
    control: 'Text' | 'Textarea';
    id: string;
    title: string;
    text: string;
  }>;
  summary: string[];
  nodes: Array<{ apvRel: ApvRel; userIds: string[] }>;
  notifyer: string[];
  flow: ApprovalFlow;
  /** The flow's outcome, or what happened after it (6, 7, 10). */
  spStatus: SpStatus;
  comments: WecomComment[];
}

export interface WecomStats extends ApiCounts {
  /** OA calls refused with errcode 45009. */
  rateLimited: number;
}

export class WecomState {
  readonly corpId: string;
  readonly apps = new Map<number, WecomApp>();
  readonly users = new Map<string, WecomUser>();
  readonly templates = new Map<string, WecomTemplate>();
  readonly instances = new Map<string, WecomInstance>();
  readonly tokens = new Tokens();
  readonly faults = new Faults<WecomFaultRoute>();
  readonly rateLimit: RateLimit;
  /** Group chats apps created, by chatid. */
  readonly chats = new Map<string, WecomChat>();
  /** Messages in group chats by chatid, oldest first. */
  readonly chatMessages = new Map<string, WecomMessage[]>();
  /** App messages by recipient, oldest first. */
  readonly messages = new Map<string, WecomMessage[]>();
  /** Each member's message limits per app. */
  readonly messageRates = new SlidingWindows();
  private messageCounter = 0;
  stats: WecomStats = { ...emptyApiCounts(), rateLimited: 0 };
  private taskCounter = 0;
  // Never reset: a backend that kept an old sp_no must not meet a new instance under it.
  private serial = 0;

  constructor(seed: WecomSeed = {}) {
    this.corpId = seed.corpId ?? 'wwsandboxcorp';
    this.rateLimit = new RateLimit(
      seed.rateLimitPerMinute ?? WECOM_OA_CALLS_PER_MINUTE,
    );
    seed.apps?.forEach(app => this.upsertApp(app));
    seed.users?.forEach(user => this.upsertUser(user));
    seed.templates?.forEach(template => this.upsertTemplate(template));
    seed.chats?.forEach(chat => this.upsertChat(chat));
  }

  /** A chat as if its app had created it. */
  upsertChat(seed: WecomChatSeed): WecomChat {
    const chat: WecomChat = {
      ...seed,
      owner: seed.owner ?? seed.members[0]!,
    };
    this.chats.set(chat.chatId, chat);
    return chat;
  }

  /** Replaces the app's settings; its callbacks switch, and its Approval API access unless given, survive. */
  upsertApp(seed: WecomAppSeed): WecomApp {
    const existing = this.apps.get(seed.agentId);
    const app: WecomApp = {
      ...seed,
      callbacks: existing?.callbacks ?? 'on',
      approvalApi: seed.approvalApi ?? existing?.approvalApi ?? true,
    };
    this.apps.set(app.agentId, app);
    return app;
  }

  upsertUser(seed: WecomUserSeed): WecomUser {
    this.users.set(seed.userId, { ...seed });
    return seed;
  }

  /** An administrator's template, or a replacement of one (an app's template stays that app's). */
  upsertTemplate(seed: WecomTemplateSeed): WecomTemplate {
    const creatorAgentId = this.templates.get(seed.templateId)?.creatorAgentId;
    const template: WecomTemplate = {
      templateId: seed.templateId,
      name: seed.name,
      controls: seed.controls.map(control => ({
        ...control,
        required: control.required ?? false,
      })),
      ...(creatorAgentId === undefined ? {} : { creatorAgentId }),
    };
    this.templates.set(template.templateId, template);
    return template;
  }

  /** The app whose secret this is: WeCom issues a token per app, named by corpid + that app's secret. */
  appBySecret(secret: string): WecomApp | undefined {
    return [...this.apps.values()].find(app => app.secret === secret);
  }

  /**
   * The lookup by mobile takes the number as members' mobiles are kept: a mainland number as bare
   * digits, others as +<code><number>; with +86, spaces or dashes it finds nobody.
   */
  userByMobile(mobile: string): WecomUser | undefined {
    if (!/^(\d+|\+\d+)$/.test(mobile) || mobile.startsWith('+86'))
      return undefined;
    return findByMobile(this.users.values(), mobile);
  }

  /** email_type 1 (the default) looks at WeCom Mail addresses only, 2 at the member's own email field only. */
  userByEmail(email: string, emailType: 1 | 2 = 1): WecomUser | undefined {
    if (emailType === 2) return findByEmail(this.users.values(), email);
    return findByEmail(
      [...this.users.values()].map(user => ({ user, email: user.bizMail })),
      email,
    )?.user;
  }

  nextTaskId = (): string => {
    this.taskCounter += 1;
    return String(this.taskCounter);
  };

  /** WeCom numbers requests by day: yyyymmdd and a serial ("202406010001"). */
  newSpNo(now: number): string {
    this.serial += 1;
    return `${new Date(now).toISOString().slice(0, 10).replaceAll('-', '')}${String(this.serial).padStart(4, '0')}`;
  }

  /**
   * getapprovaldetail's shape: `current` (process_list … sub_node_list, what current tenants get)
   * or, on request, `legacy` (sp_record … details, what older tenants got).
   */
  detailShape: 'current' | 'legacy' = 'current';

  snapshot(): StateSnapshot {
    return {
      tables: {
        apps: [...this.apps],
        users: [...this.users],
        templates: [...this.templates],
        instances: [...this.instances],
        messages: [...this.messages],
        chats: [...this.chats],
        chatMessages: [...this.chatMessages],
      },
      counters: {
        task: this.taskCounter,
        serial: this.serial,
        message: this.messageCounter,
      },
    };
  }

  restore(snapshot: StateSnapshot): void {
    restoreTable(this.apps, snapshot.tables.apps);
    restoreTable(this.users, snapshot.tables.users);
    restoreTable(this.templates, snapshot.tables.templates);
    restoreTable(this.instances, snapshot.tables.instances, instance =>
      withRestoredFlow(instance, this.nextTaskId),
    );
    this.taskCounter = snapshot.counters.task ?? 0;
    this.serial = snapshot.counters.serial ?? 0;
    restoreTable(this.messages, snapshot.tables.messages);
    restoreTable(this.chats, snapshot.tables.chats);
    restoreTable(this.chatMessages, snapshot.tables.chatMessages);
    this.messageCounter = snapshot.counters.message ?? 0;
  }

  /** A message's id, unique in the corp. */
  nextMessageId(): string {
    this.messageCounter += 1;
    return `msg${String(this.messageCounter).padStart(8, '0')}`;
  }

  /** Between tests: templates apps created go, and every app may call the Approval API again. */
  reset(): void {
    this.detailShape = 'current';
    this.instances.clear();
    for (const [templateId, template] of this.templates)
      if (template.creatorAgentId !== undefined)
        this.templates.delete(templateId);
    for (const app of this.apps.values()) app.approvalApi = true;
    this.faults.reset();
    this.rateLimit.reset();
    this.messages.clear();
    this.chatMessages.clear();
    this.messageRates.reset();
    this.stats = { ...emptyApiCounts(), rateLimited: 0 };
  }
}
