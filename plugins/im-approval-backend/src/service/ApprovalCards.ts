import type {
  LoggerService,
  SchedulerService,
  SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import { NotFoundError } from '@backstage/errors';
import {
  oneLine,
  type Approval,
  type Integration,
} from '@im-approval/plugin-im-approval-common';
import {
  ImApiError,
  type ImCallbackRequest,
  type ImCard,
  type ImCardAnswer,
  type ImCardClick,
} from '@im-approval/plugin-im-approval-node';
import type { ApprovalStore } from '../database/ApprovalStore';
import type { CommitCounter } from '../github/CommitCounter';
import { CARD_STATE_WORDS } from '../providers/cardText';
import type { ApprovalTransitions } from './ApprovalTransitions';
import { approvalPage } from './approvalPage';
import { counts } from './approvalStages';
import { requestContext } from './requestContext';
import type { SettingsSource } from './SettingsSource';

const BATCH = 100;

/** "2026-12-04 10:02 UTC": the same for everyone in the chat, wherever they are. */
const utc = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

/** One sentence of how an approval ended, for its card. */
function outcomeOf(approval: Approval): string | undefined {
  const at = utc(approval.decidedAt ?? approval.updatedAt);
  switch (approval.status) {
    case 'pending':
      return undefined;
    case 'approved':
    case 'rejected':
      return `${CARD_STATE_WORDS[approval.status]} by ${approval.decidedBy ?? 'someone'} at ${at}`;
    case 'expired':
      return `Expired at ${at} without a decision`;
    case 'failed':
      return `Failed at ${at}${approval.error ? `: ${approval.error}` : ''}`;
    default:
      return `${CARD_STATE_WORDS[approval.status]} at ${at}`;
  }
}

/**
 * Cards in group chats: a template's `groupChat` gets a card for each request, posted once its IM
 * request is open and updated in place for everyone as it changes. A click is verified as the IM
 * signs card callbacks; only the request's approvers decide, and the decision is made on the IM
 * request as them, so both views agree, and recorded before the IM is answered.
 */
export class ApprovalCards {
  constructor(
    private readonly options: {
      store: ApprovalStore;
      transitions: ApprovalTransitions;
      settings: SettingsSource;
      logger: LoggerService;
      appBaseUrl?: string;
      /** How many commits a request brings, where the GitHub App counts them. */
      commits?: CommitCounter;
    },
  ) {}

  async schedule(
    scheduler: SchedulerService,
    schedule: SchedulerServiceTaskScheduleDefinition,
  ) {
    await scheduler.scheduleTask({
      id: 'im-approval-cards',
      ...schedule,
      fn: async () => {
        const caught = await this.catchUp();
        if (caught > 0)
          this.options.logger.info(
            `Brought ${caught} group chat card(s) up to date`,
          );
      },
    });
  }

  /**
   * Posts and updates the cards that are behind: what a restart, another replica's crash or a
   * failed call left undone. Answers how many it tried.
   */
  async catchUp(): Promise<number> {
    const behind = await this.options.store.listCardsBehind(BATCH);
    for (const approval of behind) {
      const posted = await this.options.store.cardOf(approval.id);
      if (posted?.cardId) await this.update(approval);
      else await this.post(approval);
    }
    return behind.length;
  }

  /** Posts the approval's card to its group chat, once, when its IM request is open. */
  async post(approval: Approval): Promise<void> {
    const { store } = this.options;
    if (approval.status !== 'pending' || !approval.imInstanceId) return;
    const posted = await store.cardOf(approval.id);
    if (!posted || posted.cardId) return;
    try {
      const client = await this.options.transitions.clientOfApproval(approval);
      const cardId = await client.postCard!(
        posted.chatId,
        await this.cardOf(approval),
      );
      await store.attachCard(approval.id, cardId, approval.status);
    } catch (error) {
      await this.noted(
        approval,
        `Card not posted to group chat ${posted.chatId}: ${(error as Error).message}`,
      );
    }
  }

  /** Shows everyone in the chat the approval as it now is. */
  async update(approval: Approval): Promise<void> {
    const posted = await this.options.store.cardOf(approval.id);
    if (!posted?.cardId) return;
    try {
      const client = await this.options.transitions.clientOfApproval(approval);
      await client.updateCard?.(posted.cardId, await this.cardOf(approval));
      await this.options.store.cardShows(approval.id, approval.status);
    } catch (error) {
      await this.noted(
        approval,
        `Card in group chat ${posted.chatId} not updated: ${(error as Error).message}`,
      );
    }
  }

  /** Verifies a card callback and answers it as the IM expects, the click decided or refused first. */
  async handleCallback(
    provider: string,
    integrationId: string,
    request: ImCallbackRequest,
  ) {
    const { settings, transitions } = this.options;
    const integration = await settings.integration(integrationId);
    const client = integration && transitions.clientOf(integration);
    if (
      !integration ||
      integration.provider !== provider ||
      !client?.handleCardCallback
    )
      throw new NotFoundError(
        `There is no ${provider} integration "${integrationId}" with cards`,
      );
    const callback = await client.handleCardCallback(request);
    if (!callback.click) return callback.reply();
    return callback.reply(await this.click(integration, callback.click));
  }

  /** Decides on a verified click, or says why not; never an error the IM would show as a failure. */
  async click(
    integration: Integration,
    click: ImCardClick,
  ): Promise<ImCardAnswer> {
    const { store, transitions, logger } = this.options;
    const refused = (text: string, kind: 'error' | 'info' = 'error') => ({
      toast: { kind, text },
    });
    const approval = await store.get(click.approvalId);
    const posted = approval && (await store.cardOf(approval.id));
    if (
      !approval ||
      approval.integration !== integration.id ||
      !posted?.cardId ||
      (click.chatId !== undefined && click.chatId !== posted.chatId)
    )
      return refused('This card is not one of this chat’s approval requests.');
    if (approval.status !== 'pending')
      return {
        ...refused(
          `This request is already ${approval.status}: ${outcomeOf(approval)}.`,
          'info',
        ),
        card: await this.cardOf(approval, { answering: true }),
      };
    const client = transitions.clientOf(integration);
    if (
      await this.isRequester(
        approval,
        click.userId,
        client.findUsers.bind(client),
      )
    )
      return refused('You asked for this request: you cannot decide it.');
    const approvers = await client.findUsers(approval.approvers);
    const asked = approval.approvers.filter(
      (_, i) => approvers[i] === click.userId,
    );
    if (asked.length === 0)
      return refused('You are not an approver of this request.');
    const instanceId = this.requestOf(approval, asked);
    if (!instanceId)
      return refused(
        'Your part of this request is not open for a decision now.',
      );
    try {
      await client.decideTask!(
        instanceId,
        click.userId,
        click.action,
        click.comment,
      );
    } catch (error) {
      if (!(error instanceof ImApiError)) throw error;
      logger.info(
        `A card click on approval ${approval.id} was not applied in ${approval.provider}: ${error.message}`,
      );
      return refused(
        error.transient
          ? `${approval.provider} is busy: try again in a moment.`
          : `Not recorded: ${error.message}.`,
      );
    }
    // Recorded before the IM hears back: the IM instance now says what the click did.
    const now = await transitions.followIm(
      approval,
      client,
      'callback',
      instanceId,
    );
    const words = click.action === 'approve' ? 'approval' : 'rejection';
    return {
      toast: {
        kind: 'success',
        text:
          now.status === 'pending'
            ? `Your ${words} is recorded; the request still waits on others.`
            : `${CARD_STATE_WORDS[now.status]}: your ${words} is recorded.`,
      },
      card: await this.cardOf(now, { answering: true }),
    };
  }

  /**
   * The approval as its card shows it. `answering` a click, nothing is asked of GitHub: the IM
   * waits 2 to 3 s for the answer, so only a commit count already known is shown.
   */
  async cardOf(
    approval: Approval,
    { answering = false }: { answering?: boolean } = {},
  ): Promise<ImCard> {
    const previous = await this.options.store.lastApproved(approval);
    const commits = await this.options.commits?.between(approval, previous, {
      knownOnly: answering,
    });
    const stage = approval.stages.find(s => s.status === 'pending');
    const waitingOn =
      approval.status === 'pending'
        ? await this.names(approval, stage?.waitingOn ?? approval.approvers)
        : [];
    const comment = approval.comment;
    const instanceUrl = approval.imUrl;
    const approvalUrl = approvalPage(this.options.appBaseUrl, approval.id);
    const outcome = outcomeOf(approval);
    // One line each: a line break or NUL in a title, value or name from outside cannot forge a
    // line of the card ("Approved by …") or be refused by the IM.
    const line = (text: string) => oneLine(text);
    return {
      approvalId: approval.id,
      title: line(approval.title),
      test: approval.context.test === true,
      context: requestContext(approval, previous, commits).map(item => ({
        ...item,
        value: line(item.value),
      })),
      fields: approval.form.map(value => ({
        label: line(value.field),
        value: line(value.value),
      })),
      state: approval.status,
      waitingOn: waitingOn.map(line),
      ...(outcome && { outcome: line(outcome) }),
      ...(comment && { comment: line(comment) }),
      ...(instanceUrl && { instanceUrl }),
      ...(approvalUrl && { approvalUrl }),
    };
  }

  /**
   * The IM request the clicker decides: the approval's own, or, in a stage that counts, the
   * clicker's request of the pending stage (each approver has one of their own).
   */
  private requestOf(approval: Approval, asked: string[]): string | undefined {
    if (!counts(approval)) return approval.imInstanceId ?? undefined;
    return (
      approval.stages
        .find(stage => stage.status === 'pending')
        ?.requests.find(
          request =>
            asked.includes(request.approver) &&
            request.status === 'pending' &&
            request.instanceId,
        )?.instanceId ?? undefined
    );
  }

  /** People as the chat knows them: their names in the IM where it tells, else as written. */
  private async names(approval: Approval, contacts: string[]) {
    try {
      const client = await this.options.transitions.clientOfApproval(approval);
      if (!client.namesOf) return contacts;
      const ids = await client.findUsers(contacts);
      const known = ids.filter((id): id is string => id !== undefined);
      const people = new Map(
        (await client.namesOf(known)).map(person => [person.id, person.name]),
      );
      return contacts.map((contact, i) => people.get(ids[i] ?? '') ?? contact);
    } catch {
      return contacts;
    }
  }

  private async isRequester(
    approval: Approval,
    userId: string,
    findUsers: (people: string[]) => Promise<Array<string | undefined>>,
  ) {
    const imUser = approval.requester?.imUser;
    if (!imUser || approval.requester?.mayApprove) return false;
    const [id] = await findUsers([imUser]);
    return id === userId;
  }

  private async noted(approval: Approval, message: string) {
    this.options.logger.warn(`Approval ${approval.id}: ${message}`);
    await this.options.store.appendEvent(approval.id, {
      type: 'im_error',
      source: 'api',
      message,
    });
  }
}
