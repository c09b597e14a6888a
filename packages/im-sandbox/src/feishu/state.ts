import {
  restoreTable,
  type StateSnapshot,
  withRestoredFlow,
} from '../persistence/snapshot';
import { createHash } from 'node:crypto';
import { type ApiCounts, emptyApiCounts } from '../platform/apiCounts';
import { findByEmail, findByMobile } from '../platform/contacts';
import { Faults } from '../platform/faults';
import { Tokens } from '../platform/tokens';
import type {
  ApprovalDefinition,
  FeishuApp,
  FeishuUser,
  Instance,
} from './model';
import type { FeishuMessage } from './messages';
import { FeishuRateLimiter } from './rateLimits';
import { SlidingWindows } from '../platform/rateLimit';
import type {
  FeishuAppSeed,
  FeishuApprovalSeed,
  FeishuChat,
  FeishuSeed,
  FeishuUserSeed,
} from './seed';

/** The open-API operations a test can make fail on purpose. */
export const FAULT_ROUTES = [
  'token',
  'approval.get',
  'approval.create',
  'subscribe',
  'instance.create',
  'instance.get',
  'instance.cancel',
  'instance.cc',
  'instance.add_sign',
  'user.batch_get_id',
  'user.get',
  'message.create',
  'message.update',
  'task.approve',
  'task.reject',
] as const;
export type FaultRoute = (typeof FAULT_ROUTES)[number];

/** What GET /_sandbox/feishu/stats answers. */
export interface FeishuStats extends ApiCounts {
  /** Every call per open-API operation, failures and injected faults included. */
  calls: Partial<Record<FaultRoute, number>>;
}

/** Everything one Feishu tenant knows, in memory. Rules about instances live in workflow.ts. */
export class FeishuState {
  readonly apps = new Map<string, FeishuApp>();
  readonly users = new Map<string, FeishuUser>();
  readonly approvals = new Map<string, ApprovalDefinition>();
  readonly instances = new Map<string, Instance>();
  stats = emptyApiCounts();
  readonly faults = new Faults<FaultRoute>();
  /** Feishu's frequency limits per app: instance create, subscribe and instance read. */
  readonly rateLimits = new FeishuRateLimiter();
  /** Messages from apps' bots by recipient (open_id), oldest first. */
  readonly messages = new Map<string, FeishuMessage[]>();
  readonly chats = new Map<string, FeishuChat>();
  /** Messages in group chats by chat_id, oldest first; a card's content is replaced when it is updated. */
  readonly chatMessages = new Map<string, FeishuMessage[]>();
  /** The message API's own limits: per app, and per app and recipient. */
  readonly messageRates = new SlidingWindows();
  private readonly instanceCodesByUuid = new Map<string, string>();
  private readonly tokens = new Tokens('t-');
  private taskCounter = 0;
  private serialCounter = 0;

  constructor(seed: FeishuSeed = {}) {
    seed.apps?.forEach(app => this.upsertApp(app));
    seed.users?.forEach(user => this.upsertUser(user));
    seed.approvals?.forEach(approval => this.upsertApproval(approval));
    seed.chats?.forEach(chat => this.chats.set(chat.chatId, chat));
  }

  /** Replaces the app's settings; its subscriptions, callback switch and scopes survive. */
  upsertApp(seed: FeishuAppSeed): FeishuApp {
    const existing = this.apps.get(seed.appId);
    const app: FeishuApp = {
      ...seed,
      mode: seed.mode ?? 'callback',
      callbacks: existing?.callbacks ?? 'on',
      subscriptions: existing?.subscriptions ?? new Set(),
      definitionWrite: existing?.definitionWrite ?? true,
    };
    this.apps.set(app.appId, app);
    return app;
  }

  upsertUser(seed: FeishuUserSeed): FeishuUser {
    // Real user_ids are short tenant-scoped ids distinct from open_ids; derive a stable one.
    const userId =
      seed.userId ??
      createHash('sha256').update(seed.openId).digest('hex').slice(0, 8);
    const user: FeishuUser = { ...seed, userId };
    this.users.set(user.openId, user);
    return user;
  }

  /** A definition as the console saves it: replaced whole. */
  upsertApproval(seed: FeishuApprovalSeed): ApprovalDefinition {
    const approval: ApprovalDefinition = {
      approvalCode: seed.approvalCode,
      name: seed.name,
      form: seed.form.map(widget => ({
        ...widget,
        required: widget.required ?? false,
      })),
      nodes: seed.nodes.map(node => ({
        ...node,
        approverChosenMulti: node.approverChosenMulti ?? true,
      })),
      allowRevoke: seed.allowRevoke ?? true,
    };
    this.approvals.set(approval.approvalCode, approval);
    return approval;
  }

  userByUserId(userId: string): FeishuUser | undefined {
    return [...this.users.values()].find(user => user.userId === userId);
  }

  userByEmail(email: string): FeishuUser | undefined {
    return findByEmail(this.users.values(), email);
  }

  /** Mainland numbers may be given with or without +86; Feishu matches both. */
  userByMobile(mobile: string): FeishuUser | undefined {
    return findByMobile(this.users.values(), mobile);
  }

  issueToken(appId: string, now: number): { token: string; expire: number } {
    const { token, expiresIn } = this.tokens.issue(appId, now);
    return { token, expire: expiresIn };
  }

  appForToken(token: string, now: number): FeishuApp | undefined {
    const appId = this.tokens.appIdOf(token, now);
    return appId === undefined ? undefined : this.apps.get(appId);
  }

  expireTokens(): void {
    this.tokens.expireAll();
  }

  addInstance(instance: Instance): void {
    this.instances.set(instance.instanceCode, instance);
    if (instance.uuid)
      this.instanceCodesByUuid.set(instance.uuid, instance.instanceCode);
  }

  instanceByUuid(uuid: string): Instance | undefined {
    const code = this.instanceCodesByUuid.get(uuid);
    return code === undefined ? undefined : this.instances.get(code);
  }

  /** Feishu's instance read accepts the creation uuid in place of the instance_code. */
  findInstance(codeOrUuid: string): Instance | undefined {
    return this.instances.get(codeOrUuid) ?? this.instanceByUuid(codeOrUuid);
  }

  nextTaskId(): string {
    this.taskCounter += 1;
    return String(7_000_000_000_000_000_000n + BigInt(this.taskCounter));
  }

  /** Feishu numbers requests per tenant by day: yyyymmdd plus a running count. */
  nextSerialNumber(now: number): string {
    this.serialCounter += 1;
    const day = new Date(now).toISOString().slice(0, 10).replaceAll('-', '');
    return `${day}${String(this.serialCounter).padStart(4, '0')}`;
  }

  /** Forgets what tests did (instances, stats, faults); keeps the tenant's configuration. */
  snapshot(): StateSnapshot {
    const apps = [...this.apps].map(
      ([id, app]) =>
        [id, { ...app, subscriptions: [...app.subscriptions] }] as [
          string,
          unknown,
        ],
    );
    return {
      tables: {
        apps,
        users: [...this.users],
        approvals: [...this.approvals],
        instances: [...this.instances],
        messages: [...this.messages],
        chats: [...this.chats],
        chatMessages: [...this.chatMessages],
      },
      counters: { task: this.taskCounter, serial: this.serialCounter },
    };
  }

  restore(snapshot: StateSnapshot): void {
    restoreTable(this.apps, snapshot.tables.apps, app => ({
      ...app,
      subscriptions: new Set(app.subscriptions as unknown as string[]),
      // State files written before apps had scopes: every app had them all.
      definitionWrite: app.definitionWrite ?? true,
    }));
    restoreTable(this.users, snapshot.tables.users);
    restoreTable(this.approvals, snapshot.tables.approvals);
    restoreTable(this.messages, snapshot.tables.messages);
    restoreTable(this.chats, snapshot.tables.chats);
    restoreTable(this.chatMessages, snapshot.tables.chatMessages);
    restoreTable(this.instances, snapshot.tables.instances, instance =>
      withRestoredFlow(instance, () => this.nextTaskId()),
    );
    this.instanceCodesByUuid.clear();
    for (const instance of this.instances.values()) {
      if (instance.uuid)
        this.instanceCodesByUuid.set(instance.uuid, instance.instanceCode);
    }
    this.taskCounter = snapshot.counters.task ?? 0;
    this.serialCounter = snapshot.counters.serial ?? 0;
  }

  reset(): void {
    this.instances.clear();
    this.instanceCodesByUuid.clear();
    this.faults.reset();
    this.rateLimits.reset();
    this.messages.clear();
    this.chatMessages.clear();
    this.messageRates.reset();
    this.stats = emptyApiCounts();
  }
}
