import { mockServices } from '@backstage/backend-test-utils';
import {
  existingFormOf,
  templateSchema,
  type Integration,
  type Template,
} from '@im-approval/plugin-im-approval-common';
import type {
  ImCard,
  ImClient,
  ImInstanceRequest,
  ImInstanceState,
  ImProvider,
} from '@im-approval/plugin-im-approval-node';
import type { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import knexFactory from 'knex';
import { ApprovalPeople } from '../../people/ApprovalPeople';
import { CatalogPeople } from '../../people/CatalogPeople';
import { DatabaseApprovalStore } from '../../database/DatabaseApprovalStore';
import { DatabaseEventInbox } from '../../database/DatabaseEventInbox';
import { migratedClient } from '../../database/migratedClient';
import { ApprovalChanges } from '../../waiting/ApprovalChanges';
import { LocalChangeBus } from '../../waiting/ChangeBus';
import { ApprovalExpiry } from '../ApprovalExpiry';
import { ApprovalService } from '../ApprovalService';
import { ApprovalTransitions } from '../ApprovalTransitions';
import { ImClients } from '../ImClients';
import { ImEventIntake } from '../ImEventIntake';
import { CountedStages } from '../CountedStages';
import { ImInstanceOpener } from '../ImInstanceOpener';
import { ApprovalCards } from '../ApprovalCards';
import { ApprovalFollowUps } from '../ApprovalFollowUps';
import { Reconciler } from '../Reconciler';

/**
 * An IM whose every answer a test scripts: instances it holds, and errors to throw next per call.
 * It records each call, so a test can say how often the IM was asked what.
 */
export class ScriptedIm implements ImClient {
  readonly instances = new Map<string, ImInstanceState>();
  readonly calls: Array<{ op: string; arg?: unknown }> = [];
  private readonly failures = new Map<string, Error[]>();
  private created = 0;

  /** The next call of `op` throws `error` (once per error given). */
  failNext(
    op:
      | 'createInstance'
      | 'readInstance'
      | 'cancelInstance'
      | 'sendMessage'
      | 'remindInChat'
      | 'addApprovers'
      | 'decideTask',
    ...errors: Error[]
  ) {
    this.failures.set(op, [...(this.failures.get(op) ?? []), ...errors]);
  }

  decide(instanceId: string, state: ImInstanceState) {
    this.instances.set(instanceId, state);
  }

  count(op: string) {
    return this.calls.filter(call => call.op === op).length;
  }

  private record(op: string, arg?: unknown) {
    this.calls.push({ op, arg });
    const [failure, ...rest] = this.failures.get(op) ?? [];
    this.failures.set(op, rest);
    if (failure) throw failure;
  }

  async verifyCredentials() {}
  async describeForm() {
    return [];
  }
  /** The labels the IM answers with each instance it creates, by the request's field. */
  labels?: Map<string, string>;
  async createInstance(request: ImInstanceRequest) {
    this.record('createInstance', request);
    const instanceId = `inst-${++this.created}`;
    this.instances.set(instanceId, { status: 'pending' });
    return {
      instanceId,
      url: `https://im.example/${instanceId}`,
      labels: this.labels,
    };
  }
  /** People the IM does not know: findUsers answers undefined for them. */
  readonly strangers = new Set<string>();
  async findUsers(people: string[]) {
    return people.map(person =>
      this.strangers.has(person) ? undefined : person,
    );
  }

  async readInstance(instanceId: string) {
    this.record('readInstance', instanceId);
    return this.instances.get(instanceId) ?? { status: 'deleted' as const };
  }
  /** The reason each withdrawn instance was given, where one was. */
  readonly cancelReasons = new Map<string, string>();
  async cancelInstance(instanceId: string, reason?: string) {
    this.record('cancelInstance', instanceId);
    if (reason !== undefined) this.cancelReasons.set(instanceId, reason);
    return { revoked: true };
  }
  async handleCallback() {
    return {
      reply: { status: 200, contentType: 'application/json', body: '{}' },
      events: [],
    };
  }
  /** Direct messages sent, in order. */
  readonly messages: Array<{ userIds: string[]; text: string; url?: string }> =
    [];
  async sendMessage(userIds: string[], text: string, url?: string) {
    this.record('sendMessage', { userIds, text, url });
    this.messages.push({ userIds, text, ...(url && { url }) });
  }
  /** Reminders posted in group chats, in order. */
  readonly chatReminders: Array<{
    chatId: string;
    userIds: string[];
    text: string;
  }> = [];
  async remindInChat(chatId: string, userIds: string[], text: string) {
    this.record('remindInChat', { chatId, userIds, text });
    this.chatReminders.push({ chatId, userIds, text });
  }
  /** Cards posted, by id: the chat and the card as last posted or updated. */
  readonly cards = new Map<string, { chatId: string; card: ImCard }>();
  async postCard(chatId: string, card: ImCard) {
    this.record('postCard', { chatId, card });
    const id = `card-${this.cards.size + 1}`;
    this.cards.set(id, { chatId, card });
    return id;
  }
  async updateCard(cardId: string, card: ImCard) {
    this.record('updateCard', { cardId, card });
    this.cards.set(cardId, { ...this.cards.get(cardId)!, card });
  }
  /** Decides the instance as the approver did: any one approver decides it. */
  async decideTask(
    instanceId: string,
    approverId: string,
    action: 'approve' | 'reject',
    comment?: string,
  ) {
    this.record('decideTask', { instanceId, approverId, action, comment });
    this.instances.set(instanceId, {
      status: action === 'approve' ? 'approved' : 'rejected',
      decidedBy: { id: approverId, name: approverId },
      ...(comment && { comment }),
    });
  }
  /** An IM that lets the app add approvers; set to undefined for one that does not. */
  addApprovers?: ImClient['addApprovers'] = async (instanceId, approverIds) => {
    this.record('addApprovers', { instanceId, approverIds });
  };
}

export const INTEGRATION = {
  id: 'scripted',
  provider: 'scripted',
  connectionMode: 'callback',
} as unknown as Integration;

export function template(overrides: Record<string, unknown> = {}): Template {
  return templateSchema.parse({
    name: 'deploy',
    integration: INTEGRATION.id,
    form: 'FORM',
    title: 'Deploy ${repository}',
    approvers: ['alice'],
    approverMode: 'any',
    defaultTimeout: '1h',
    maxTimeout: '1d',
    policy: { repositories: ['acme/*'], environments: ['production'] },
    ...overrides,
  });
}

/** The approval core as the plugin wires it, over a real SQLite store and a scripted IM. */
export async function scriptedCore(
  options: {
    templates?: Template[];
    /** The catalog's entities (users and groups with their relations). */
    entities?: Entity[];
    readsPerMinute?: number;
    readsPerSecond?: number;
    /** How often waiters' approvals are rechecked for changes whose notification was lost; default 30 s. */
    recheckMs?: number;
    /** An IM whose provider has no group chat cards. */
    withoutCards?: boolean;
  } = {},
) {
  const knex = await migratedClient({
    getClient: async () =>
      knexFactory({
        client: 'better-sqlite3',
        connection: ':memory:',
        useNullAsDefault: true,
      }),
  });
  const store = new DatabaseApprovalStore(knex);
  const im = new ScriptedIm();
  const provider: ImProvider = {
    id: INTEGRATION.provider,
    connectionModes: ['callback'],
    reconcileReadsPerMinute: options.readsPerMinute,
    reconcileReadsPerSecond: options.readsPerSecond,
    ...(!options.withoutCards && { cards: 'decide' as const }),
    createClient: () => im,
  };
  const logger = mockServices.logger.mock();
  /** How long the reconciler waited, each time, to keep the per-second limit: its clock only moves on. */
  const sleeps: number[] = [];
  let clockMs = Date.now();
  const clock = {
    now: () => clockMs,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      clockMs += ms;
    },
  };
  const templates = options.templates ?? [template()];
  const settings = {
    template: async (name: string) => templates.find(t => t.name === name),
    integration: async (id: string) =>
      id === INTEGRATION.id ? INTEGRATION : undefined,
    formOf: async (t: Template) => existingFormOf(t) ?? 'MADE',
  };
  const clients = new ImClients(new Map([[provider.id, provider]]), {
    logger,
    callbackMaxAgeSeconds: 300,
    keepToRateLimits: true,
  });
  // As a replica on PostgreSQL, whose notifications can be lost, rechecks.
  const changes = new ApprovalChanges(new LocalChangeBus(), logger, {
    recheck: {
      versions: ids => store.versions(ids),
      everyMs: options.recheckMs,
    },
  });
  await changes.start();
  const transitions = new ApprovalTransitions({
    store,
    settings,
    clients,
    changes,
    logger,
  });
  const opener = new ImInstanceOpener({ store, settings, transitions, logger });
  const counted = new CountedStages({ store, opener, transitions, logger });
  opener.counted = counted;
  transitions.counted = counted;
  const inbox = new DatabaseEventInbox(knex);
  const expiry = new ApprovalExpiry({ store, inbox, transitions, logger });
  const service = new ApprovalService({
    store,
    settings,
    changes,
    transitions,
    opener,
    expiry,
    people: new ApprovalPeople(
      new CatalogPeople(
        catalogServiceMock({ entities: options.entities ?? [] }),
        mockServices.auth(),
        logger,
      ),
      logger,
    ),
    githubServerUrl: 'https://github.com',
  });
  return {
    knex,
    im,
    settings,
    store,
    changes,
    transitions,
    opener,
    expiry,
    service,
    inbox,
    intake: new ImEventIntake({ store, inbox, settings, transitions, logger }),
    cards: new ApprovalCards({
      store,
      transitions,
      settings,
      logger,
      appBaseUrl: 'https://backstage.example/',
    }),
    followUps: new ApprovalFollowUps({
      store,
      transitions,
      settings,
      logger,
      appBaseUrl: 'https://backstage.example/',
    }),
    sleeps,
    reconciler: new Reconciler({
      store,
      clients,
      transitions,
      opener,
      logger,
      clock,
    }),
  };
}
