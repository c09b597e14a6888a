import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
} from '@backstage/errors';
import {
  describeRequester,
  existingFormOf,
  formatDuration,
  isTerminal,
  placeholdersOf,
  stagesOf,
  type Approval,
  type ApprovalContext,
  type DecideApprovalRequest,
  type ApprovalFacets,
  type ApprovalFacetsQuery,
  type ListApprovalsQuery,
  type ParsedCreateApprovalRequest,
  type Requester,
  type RunContext,
  type Template,
  type TestTemplateRequest,
  type TimelineSource,
} from '@im-approval/plugin-im-approval-common';
import {
  ImApiError,
  type ImClient,
} from '@im-approval/plugin-im-approval-node';
import { randomUUID } from 'node:crypto';
import type { Caller } from '../auth/CallerResolver';
import type {
  ApprovalStore,
  IdempotentApproval,
  IdempotentRequest,
  NewApproval,
} from '../database/ApprovalStore';
import { checkPolicy } from '../templates/checkPolicy';
import { renderTemplate, templateVariables } from '../templates/renderTemplate';
import {
  approvalVersion,
  type ApprovalChanges,
} from '../waiting/ApprovalChanges';
import type { ApprovalExpiry } from './ApprovalExpiry';
import type { ApprovalTransitions } from './ApprovalTransitions';
import { approvalStagesOf } from './approvalStages';
import { followUpNotes, followUps } from './followUps';
import { IdempotencyMismatchError } from './IdempotencyMismatchError';
import { differences, idempotentRequest } from './idempotentRequest';
import type { ImInstanceOpener } from './ImInstanceOpener';
import type { ApprovalPeople } from '../people/ApprovalPeople';
import { normalizeRef } from '../people/CatalogPeople';
import type { SettingsSource } from './SettingsSource';

/** How early a timer may fire by Date.now()'s reckoning. */
const TIMER_SLACK_MS = 5;
/** The run a template test pretends to come from, unless the request says otherwise. */
const TEST_RUN = {
  repository: 'example/repository',
  ref: 'refs/heads/main',
  sha: '0000000000000000000000000000000000000000',
  workflow: 'Template test',
  job: 'test',
  environment: 'test',
  runId: '0',
};

export interface ApprovalServiceOptions {
  store: ApprovalStore;
  settings: SettingsSource;
  changes: ApprovalChanges;
  transitions: ApprovalTransitions;
  opener: ImInstanceOpener;
  expiry: ApprovalExpiry;
  people: ApprovalPeople;
  githubServerUrl: string;
}

/** How the creation event describes the run context: a template test's, verified from the OIDC token, or as the caller reported it. */
function runContextKind(
  context: Pick<ApprovalContext, 'test' | 'verified'>,
): string {
  if (context.test) return 'test';
  return context.verified ? 'verified' : 'self-reported';
}

/** What callers ask of approvals through the API: open (idempotently, within policy), read, wait, cancel, decide. */
export class ApprovalService {
  private readonly store: ApprovalStore;
  private readonly settings: SettingsSource;
  private readonly changes: ApprovalChanges;
  private readonly transitions: ApprovalTransitions;
  private readonly opener: ImInstanceOpener;
  private readonly expiry: ApprovalExpiry;
  private readonly people: ApprovalPeople;
  private readonly githubServerUrl: string;
  private readonly createdListeners: Array<(approval: Approval) => void> = [];

  constructor(options: ApprovalServiceOptions) {
    this.store = options.store;
    this.settings = options.settings;
    this.changes = options.changes;
    this.transitions = options.transitions;
    this.opener = options.opener;
    this.expiry = options.expiry;
    this.people = options.people;
    this.githubServerUrl = options.githubServerUrl;
  }

  /** Called, here, after each approval this process opens (its approvers are notified from it). */
  onCreated(listener: (approval: Approval) => void) {
    this.createdListeners.push(listener);
  }

  async create(
    request: ParsedCreateApprovalRequest,
    caller: Caller,
  ): Promise<{ approval: Approval; created: boolean }> {
    const template = await this.settings.template(request.template);
    if (!template)
      throw new InputError(
        `body.template: there is no template named "${request.template}"`,
      );
    const context = this.contextOf(caller, request.context);
    // Before the idempotency key is looked at: a key must never carry an approval past the policy.
    checkPolicy(template, context);
    if (request.approvers && !template.allowApproverOverride) {
      throw new InputError(
        `body.approvers: template "${template.name}" does not allow overriding its approvers`,
      );
    }
    const timeout = request.timeout ?? template.defaultTimeout;
    if (timeout > template.maxTimeout) {
      throw new InputError(
        `body.timeout: template "${template.name}" allows at most ${formatDuration(template.maxTimeout)}`,
      );
    }
    const asked = idempotentRequest(request, context);
    const existing = await this.store.getByIdempotencyKey(
      caller.id,
      request.idempotencyKey,
    );
    if (existing)
      return {
        approval: this.sameRequest(existing, request.idempotencyKey, asked),
        created: false,
      };

    const rendered = renderTemplate(
      template,
      templateVariables(context, request.variables),
      request.title,
    );
    return this.open(template, {
      idempotencyKey: request.idempotencyKey,
      request: asked,
      context,
      variables: request.variables,
      title: rendered.title,
      form: rendered.form,
      approvers: request.approvers,
      timeout,
      caller,
    });
  }

  /**
   * Opens a real approval from a template, on behalf of a person, marked as a test: values the
   * request leaves out are samples, and the template's policy does not apply.
   */
  async sendTest(
    templateName: string,
    request: TestTemplateRequest,
    caller: Caller,
  ): Promise<Approval> {
    const template = await this.settings.template(templateName);
    if (!template)
      throw new NotFoundError(`There is no template "${templateName}"`);
    const context = {
      ...this.contextOf(caller, {
        ...TEST_RUN,
        actor: caller.id,
        ...request.context,
      }),
      test: true,
    };
    const variables = { ...request.variables };
    for (const name of placeholdersOf(template)) {
      if (name.startsWith('vars.'))
        variables[name.slice(5)] ??= `sample ${name.slice(5)}`;
    }
    const rendered = renderTemplate(
      template,
      templateVariables(context, variables),
      request.title,
    );
    const { approval } = await this.open(template, {
      idempotencyKey: `test:${randomUUID()}`,
      request: { test: true },
      context,
      variables,
      title: request.title ?? `[Test] ${rendered.title}`,
      form: rendered.form,
      timeout: template.defaultTimeout,
      caller,
    });
    return approval;
  }

  /**
   * Stores the approval a deployment gate asks for, from the webhook's verified context, under the
   * gate's own key; the caller opens its IM instance (so GitHub is answered within its 10 s).
   * Throws the policy's or the template's sentence when the request cannot be opened at all.
   */
  async storeForGate(
    template: Template,
    request: {
      idempotencyKey: string;
      context: ApprovalContext;
      variables: Record<string, string>;
      timeout?: number;
    },
  ): Promise<{ approval: Approval; created: boolean }> {
    checkPolicy(template, request.context);
    const timeout = Math.min(
      request.timeout ?? template.defaultTimeout,
      template.maxTimeout,
    );
    const rendered = renderTemplate(
      template,
      templateVariables(request.context, request.variables),
    );
    return this.open(
      template,
      {
        idempotencyKey: request.idempotencyKey,
        request: { gate: request.context.gate },
        context: request.context,
        variables: request.variables,
        title: rendered.title,
        form: rendered.form,
        timeout,
        caller: { kind: 'service', id: request.context.caller },
      },
      { source: 'github', openIm: false },
    );
  }

  private async open(
    template: Template,
    request: Pick<
      NewApproval,
      'idempotencyKey' | 'request' | 'context' | 'variables' | 'title' | 'form'
    > & {
      /** The request's own approvers, in place of the template's (which then has one stage). */
      approvers?: string[];
      timeout: number;
      caller: Caller;
    },
    {
      source = 'api',
      openIm = true,
    }: { source?: TimelineSource; openIm?: boolean } = {},
  ): Promise<{ approval: Approval; created: boolean }> {
    const integration = await this.transitions.integrationOf(
      template.integration,
    );
    const { timeout, caller, context, approvers, ...approvalFields } = request;
    await this.requireForm(template);
    const client = this.transitions.clientOf(integration);
    const noCards =
      template.groupChat !== undefined &&
      this.transitions.cardsUnavailable(integration);
    const people = await this.people.resolveStages({
      template,
      provider: integration.provider,
      findUsers: contacts => client.findUsers(contacts),
      stages: approvers
        ? [
            {
              approvers,
              rule: template.approverMode,
              field: 'body.approvers',
            },
          ]
        : stagesOf(template).map((stage, i) => ({
            ...stage,
            field: template.stages
              ? `template "${template.name}" stages[${i}].approvers`
              : `template "${template.name}" approvers`,
          })),
      cc: { people: template.cc, field: `template "${template.name}" cc` },
      escalateTo: {
        people: template.escalateTo ?? [],
        field: `template "${template.name}" escalateTo`,
      },
      caller,
      context,
    });
    const inserted = await this.store.insert(
      {
        ...approvalFields,
        approvers: people.approvers,
        stages: approvers
          ? []
          : approvalStagesOf(
              template,
              await this.requestPeople(template, people, client),
            ),
        approverRefs: people.approverRefs,
        requester: people.requester,
        cc: people.cc,
        id: randomUUID(),
        caller: caller.id,
        template: template.name,
        integration: integration.id,
        provider: integration.provider,
        context,
        expiresAt: new Date(Date.now() + timeout * 1000),
        ...followUps(template, people.escalateTo, timeout),
        ...(template.groupChat && !noCards
          ? { cardChat: template.groupChat }
          : {}),
      },
      {
        type: 'created',
        source,
        actor: caller.id,
        message: [
          `Requested by ${describeRequester(people.requester)} with a ${runContextKind(context)} run context`,
          `expires in ${formatDuration(timeout)}`,
          ...followUpNotes(template, people.escalateTo, timeout),
          // A template from app-config is not checked when saved: say why its chat sees nothing.
          ...(noCards
            ? [`no card in group chat ${template.groupChat}: ${noCards}`]
            : []),
          ...(people.cc.length > 0
            ? [`CC (told, cannot decide): ${people.cc.join(', ')}`]
            : []),
          ...people.notes,
        ].join('; '),
      },
    );
    if (!inserted.created) {
      return {
        approval: this.sameRequest(
          inserted,
          request.idempotencyKey,
          request.request,
        ),
        created: false,
      };
    }
    this.createdListeners.forEach(listener => listener(inserted.approval));
    return {
      approval: openIm
        ? await this.opener.open(inserted.approval, source)
        : inserted.approval,
      created: true,
    };
  }

  /**
   * Each stage's people as the IM knows them, for a template that counts approvals: one request
   * per IM user, however many ways the template names them (an id and a mobile are one person).
   */
  private async requestPeople(
    template: Template,
    people: { stages: string[][]; requester: Requester },
    client: ImClient,
  ): Promise<string[][]> {
    if (!stagesOf(template).some(stage => stage.atLeast !== undefined))
      return people.stages;
    const { requester } = people;
    // Written another way than the template names them, the requester is found by their IM id too.
    const [requesterId] =
      requester.imUser && !requester.mayApprove
        ? await client.findUsers([requester.imUser])
        : [];
    return Promise.all(
      people.stages.map(async stage => {
        const ids = await client.findUsers(stage);
        // A person the IM does not know stays as written: opening their request says so.
        const asked = stage.map((person, i) => ids[i] ?? person);
        return [...new Set(asked)].filter(id => id !== requesterId);
      }),
    );
  }

  /**
   * A form the backend makes is made (or checked) before anything is stored, so a form edited in
   * the IM, or an app that may not make it, refuses the request itself. An IM that cannot be
   * reached now does not: the approval is opened, and its form made, once the IM answers.
   */
  private async requireForm(template: Template) {
    if (existingFormOf(template) !== undefined) return;
    try {
      await this.settings.formOf(template);
    } catch (error) {
      if (!(error instanceof ImApiError)) throw error;
      if (error.transient) return;
      throw new ConflictError(error.message);
    }
  }

  async get(id: string): Promise<Approval> {
    const approval = await this.store.get(id);
    if (!approval)
      throw new NotFoundError(`There is no approval with id ${id}`);
    return approval;
  }

  async getWithTimeline(id: string) {
    const approval = await this.get(id);
    return { ...approval, timeline: await this.store.timeline(id) };
  }

  async list(query: ListApprovalsQuery, caller: Caller) {
    if (query.mine && caller.kind !== 'user')
      throw new InputError(
        'query.mine: only a signed-in Backstage user has approvals of their own',
      );
    return this.store.list(
      query,
      caller.kind === 'user' ? normalizeRef(caller.id, 'user') : undefined,
    );
  }

  facets(query: ApprovalFacetsQuery): Promise<ApprovalFacets> {
    return this.store.facets(query.q || undefined);
  }

  /**
   * Answers at once when the approval is decided, otherwise the moment it is decided or one of its
   * stages moves on, otherwise at the timeout with `pending`. The deadline is the server's: an approval past it expires here.
   * `authorize` sees the approval first (read once, after subscribing, so no change slips between).
   */
  async wait(
    id: string,
    timeoutSeconds: number,
    options: {
      signal?: AbortSignal;
      authorize?: (approval: Approval) => Promise<void>;
      /** Called once, when the approval is read, authorized and still pending: the wait is held from here. */
      onHold?: () => void;
    } = {},
  ): Promise<Approval> {
    const until = Date.now() + timeoutSeconds * 1000;
    const subscription = this.changes.subscribe(id);
    try {
      let approval = await this.get(id);
      await options.authorize?.(approval);
      subscription.saw(approvalVersion(approval));
      let holding = false;
      for (;;) {
        if (isTerminal(approval.status)) return approval;
        const expiresAt = Date.parse(approval.expiresAt);
        if (expiresAt <= Date.now()) {
          approval = await this.expiry.expire(approval, 'api');
          if (isTerminal(approval.status)) return approval;
        }
        const remaining = Math.min(until, expiresAt) - Date.now();
        if (remaining <= 0 && until <= expiresAt) return approval;
        if (!holding) {
          holding = true;
          options.onHold?.();
        }
        // A lost notification is made up for by ApprovalChanges waking every waiter now and then.
        const reason = await subscription.next(
          Math.max(remaining, 0),
          options.signal,
        );
        if (reason === 'aborted') return approval;
        // Nothing changed and the poll is over: what was read is still true. A timer may fire a
        // millisecond before Date.now() reaches the deadline it was set for.
        if (
          reason === 'timeout' &&
          Date.now() >= until - TIMER_SLACK_MS &&
          until <= expiresAt
        )
          return approval;
        const before = approval;
        approval = await this.get(id);
        subscription.saw(approvalVersion(approval));
        // A stage moved on: the waiter is told now, so the Action can say whom it waits on next.
        if (JSON.stringify(approval.stages) !== JSON.stringify(before.stages))
          return approval;
      }
    } finally {
      subscription.close();
    }
  }

  async cancel(id: string, caller: Caller, reason?: string): Promise<Approval> {
    const approval = await this.get(id);
    if (approval.status === 'canceled') return approval;
    if (isTerminal(approval.status))
      throw new ConflictError(`Approval ${id} is already ${approval.status}`);
    const canceled = await this.transitions.finish(
      approval,
      {
        status: 'canceled',
        decidedBy: { id: caller.id, name: caller.id },
        comment: reason,
      },
      { type: 'canceled', source: 'api', actor: caller.id, message: reason },
      { revoke: true },
    );
    return canceled ?? this.cancel(id, caller, reason);
  }

  /** An administrator's decision in Backstage, instead of one in the IM. */
  async decide(
    id: string,
    caller: Caller,
    request: DecideApprovalRequest,
  ): Promise<Approval> {
    const approval = await this.get(id);
    const { requester } = approval;
    if (
      request.decision === 'approved' &&
      caller.kind === 'user' &&
      requester?.entityRef === normalizeRef(caller.id, 'user') &&
      !requester.mayApprove
    ) {
      throw new NotAllowedError(
        `You requested approval ${id}, so you cannot approve it (its template does not allow self-approval); reject or cancel it, or ask someone else`,
      );
    }
    const decided = await this.transitions.finish(
      approval,
      {
        status: request.decision,
        decidedBy: { id: caller.id, name: caller.id },
        comment: request.comment,
      },
      {
        type: request.decision,
        source: 'admin',
        actor: caller.id,
        message: request.comment,
      },
      { revoke: true },
    );
    if (!decided)
      throw new ConflictError(
        `Approval ${id} is already ${(await this.get(id)).status}`,
      );
    return decided;
  }

  private contextOf(
    caller: Caller,
    reported: RunContext | undefined,
  ): ApprovalContext {
    let run;
    if (caller.kind === 'github') {
      run = { ...caller.context, verified: true };
    } else if (reported) {
      run = { serverUrl: this.githubServerUrl, ...reported, verified: false };
    } else {
      throw new InputError(
        'body.context: required when calling without a GitHub OIDC token (at least the repository)',
      );
    }
    const attempt = run.runAttempt ? `/attempts/${run.runAttempt}` : '';
    const runUrl =
      run.runId &&
      `${run.serverUrl ?? this.githubServerUrl}/${run.repository}/actions/runs/${run.runId}${attempt}`;
    return { ...run, caller: caller.id, ...(runUrl ? { runUrl } : {}) };
  }

  /** The caller's approval under a repeated idempotency key, if the request repeats what opened it. */
  private sameRequest(
    existing: IdempotentApproval,
    key: string,
    asked: IdempotentRequest,
  ): Approval {
    // Approvals opened before requests were recorded: the template and the repository must match.
    const stored = existing.request ?? {
      ...asked,
      template: existing.approval.template,
      context: {
        ...(asked.context as object),
        repository: existing.approval.context.repository,
      },
    };
    const differing = differences(stored, asked);
    if (differing.length > 0) {
      throw new IdempotencyMismatchError(
        `idempotencyKey: "${key}" was already used for a different request (it differs in ${differing.join(', ')}); ` +
          'send a new key for a new request',
      );
    }
    return existing.approval;
  }
}
