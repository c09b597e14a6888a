import type {
  LoggerService,
  SchedulerService,
  SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import {
  describeRequester,
  formatDuration,
  type Approval,
} from '@im-approval/plugin-im-approval-common';
import {
  ImApiError,
  type ImClient,
} from '@im-approval/plugin-im-approval-node';
import type { ApprovalStore } from '../database/ApprovalStore';
import type { ApprovalTransitions } from './ApprovalTransitions';
import type { SettingsSource } from './SettingsSource';
import { approvalPage } from './approvalPage';
import { counts } from './approvalStages';

const BATCH = 100;
/** An escalation a replica took and did not settle (it stopped, or the IM failed for a while) is due again after this. */
export const ESCALATION_LEASE_SECONDS = 300;

/** One message to some of an approval's approvers: the request they decide in the IM. */
interface Ask {
  contacts: string[];
  url: string | null;
}

/**
 * Who a pending approval waits on now, with the link each decides at: the current stage's
 * approvers not yet decided, each counted request's own approver, or everyone asked. Nobody before
 * the IM request exists: there would be nothing to open.
 */
function pendingAsks(approval: Approval): Ask[] {
  if (counts(approval))
    return approval.stages
      .filter(stage => stage.status === 'pending')
      .flatMap(stage => stage.requests)
      .filter(request => request.status === 'pending' && request.instanceId)
      .map(request => ({ contacts: [request.approver], url: request.url }));
  if (!approval.imInstanceId) return [];
  const stage = approval.stages.find(s => s.status === 'pending');
  const contacts = stage ? stage.waitingOn : approval.approvers;
  return contacts.length > 0 ? [{ contacts, url: approval.imUrl }] : [];
}

/** What a reminder says: plain text, each IM renders it as text, never as markup. */
function reminderText(approval: Approval, now: Date): string {
  const waited = formatDuration(
    (now.getTime() - Date.parse(approval.createdAt)) / 1000,
  );
  const left = formatDuration(
    (Date.parse(approval.expiresAt) - now.getTime()) / 1000,
  );
  const requester = approval.requester
    ? ` Requested by ${describeRequester(approval.requester)}.`
    : '';
  return `Reminder: "${approval.title}" has waited ${waited} for your decision and expires in ${left}.${requester}`;
}

/**
 * Reminders and escalation, owned by the server: a scheduled pass finds what is due in the
 * database, takes each one in a conditional update (so it fires once across replicas and
 * restarts), and tells the IM. What was done is written to the approval's timeline.
 */
export class ApprovalFollowUps {
  constructor(
    private readonly options: {
      store: ApprovalStore;
      transitions: ApprovalTransitions;
      settings: SettingsSource;
      logger: LoggerService;
      /** The Backstage app's URL: an escalation the IM cannot add links to the approval's page. */
      appBaseUrl?: string;
      /** Hears of approvers added by an escalation (pages and group chat cards follow). */
      onApproversAdded?: (approval: Approval) => void;
    },
  ) {}

  async schedule(
    scheduler: SchedulerService,
    schedule: SchedulerServiceTaskScheduleDefinition,
  ) {
    await scheduler.scheduleTask({
      id: 'im-approval-follow-ups',
      ...schedule,
      fn: async () => {
        const { reminded, escalated } = await this.runDue();
        if (reminded + escalated > 0)
          this.options.logger.info(
            `Reminded the approvers of ${reminded} approval(s), escalated ${escalated}`,
          );
      },
    });
  }

  /** Sends every reminder and escalation that is due; answers how many of each this replica took. */
  async runDue(now = new Date()) {
    const { store } = this.options;
    let reminded = 0;
    for (const approval of await store.listRemindersDue(now, BATCH))
      if (await this.remind(approval, now)) reminded += 1;
    let escalated = 0;
    for (const approval of await store.listEscalationsDue(now, BATCH))
      if (await this.escalate(approval, now)) escalated += 1;
    return { reminded, escalated };
  }

  private async remind(approval: Approval, now: Date): Promise<boolean> {
    const { store } = this.options;
    const reminder = await store.takeReminder(approval.id, now);
    if (reminder === undefined) return false;
    const asks = pendingAsks(approval);
    if (asks.length === 0) return true;
    const text = reminderText(approval, now);
    const told: string[] = [];
    try {
      const client = await this.options.transitions.clientOfApproval(approval);
      const asked: string[] = [];
      for (const ask of asks) {
        const ids = await this.userIds(client, ask.contacts, approval.provider);
        await this.send(client, ids, text, ask.url);
        told.push(...ask.contacts);
        asked.push(...ids);
      }
      const inChat = await this.remindInChat(approval, client, asked, text);
      await store.appendEvent(approval.id, {
        type: 'reminded',
        source: 'scheduler',
        message: `Reminder ${reminder} sent to ${told.join(', ')}${inChat}`,
      });
    } catch (error) {
      await store.appendEvent(approval.id, {
        type: 'im_error',
        source: 'scheduler',
        message: `Reminder ${reminder} ${told.length > 0 ? `sent only to ${told.join(', ')}` : 'not sent'}: ${(error as Error).message}`,
      });
    }
    return true;
  }

  private async escalate(approval: Approval, now: Date): Promise<boolean> {
    const { store } = this.options;
    if (
      !(await store.takeEscalation(approval.id, now, ESCALATION_LEASE_SECONDS))
    )
      return false;
    const to = approval.escalateTo;
    const waited = formatDuration(
      (now.getTime() - Date.parse(approval.createdAt)) / 1000,
    );
    try {
      const client = await this.options.transitions.clientOfApproval(approval);
      const ids = await this.userIds(client, to, approval.provider);
      const cannotAdd = await this.whyNotAdded(approval, client);
      if (!cannotAdd) {
        // Without its instance there is nobody to add to yet: the lease brings it back.
        if (!approval.imInstanceId) return true;
        await client.addApprovers!(
          approval.imInstanceId,
          ids,
          `No decision after ${waited}: escalated`,
        );
        await store.settleEscalation(approval.id, to, {
          type: 'escalated',
          source: 'scheduler',
          message: `No decision after ${waited}: ${to.join(', ')} added as approvers of the ${approval.provider} request, beside those it waits on`,
        });
        const widened = await store.get(approval.id);
        if (widened) this.options.onApproversAdded?.(widened);
        return true;
      }
      const page = approvalPage(this.options.appBaseUrl, approval.id);
      const url = page ?? approval.imUrl;
      await this.send(
        client,
        ids,
        `Escalated to you: "${approval.title}" has waited ${waited} without a decision and expires in ${formatDuration((Date.parse(approval.expiresAt) - now.getTime()) / 1000)}.${page ? ' Decide on its page in Backstage.' : ''}`,
        url,
      );
      await store.settleEscalation(approval.id, [], {
        type: 'escalated',
        source: 'scheduler',
        message: `No decision after ${waited}: ${to.join(', ')} told by a direct message with a link to ${page ? 'its page in Backstage' : 'the IM request'} (${cannotAdd})`,
      });
    } catch (error) {
      const message = (error as Error).message;
      if (error instanceof ImApiError && !error.transient) {
        await store.settleEscalation(approval.id, [], {
          type: 'im_error',
          source: 'scheduler',
          message: `Not escalated to ${to.join(', ')}: ${message}`,
        });
      } else {
        await store.appendEvent(approval.id, {
          type: 'im_error',
          source: 'scheduler',
          message: `Escalation to ${to.join(', ')} failed, tried again in ${formatDuration(ESCALATION_LEASE_SECONDS)}: ${message}`,
        });
      }
    }
    return true;
  }

  /**
   * The reminder in the group chat where the request's card is, mentioning those it waits on, where
   * the IM lets an app mention people; what the timeline says of it. Its failure does not undo the
   * direct messages already sent: it is said instead.
   */
  private async remindInChat(
    approval: Approval,
    client: ImClient,
    userIds: string[],
    text: string,
  ): Promise<string> {
    if (!client.remindInChat) return '';
    const card = await this.options.store.cardOf(approval.id);
    if (!card?.cardId) return '';
    try {
      await client.remindInChat(card.chatId, userIds, text);
      return `, and in group chat ${card.chatId}`;
    } catch (error) {
      return `; not in group chat ${card.chatId}: ${(error as Error).message}`;
    }
  }

  /**
   * Why the people escalated to are not added as approvers of the IM request, or undefined when
   * they are: only where the IM lets the app add them, and only beside approvers of whom any one
   * decides (where all must approve, one more would make the request harder to pass, not easier).
   */
  private async whyNotAdded(
    approval: Approval,
    client: ImClient,
  ): Promise<string | undefined> {
    if (!client.addApprovers)
      return `${approval.provider} lets no app add approvers to a request`;
    if (counts(approval))
      return 'each approver of a counted stage has a request of their own';
    const stage = approval.stages.find(s => s.status === 'pending');
    const rule =
      stage?.rule ??
      (await this.options.settings.template(approval.template))?.approverMode;
    return rule === 'any'
      ? undefined
      : 'all its approvers must approve: one more would not make it pass sooner';
  }

  /** The IM user ids of these contacts; someone the IM no longer knows is an error naming them. */
  private async userIds(
    client: ImClient,
    contacts: string[],
    provider: string,
  ) {
    const ids = await client.findUsers(contacts);
    const unknown = contacts.filter((_, i) => !ids[i]);
    if (unknown.length > 0)
      throw new ImApiError(
        'invalid_request',
        `${provider} no longer finds ${unknown.join(', ')}: check that each is still a member, inside the app's contact scope`,
      );
    return ids as string[];
  }

  private async send(
    client: ImClient,
    userIds: string[],
    text: string,
    url: string | null,
  ) {
    if (!client.sendMessage)
      throw new ImApiError(
        'invalid_request',
        'this IM sends no direct messages from the app',
      );
    await client.sendMessage(userIds, text, url ?? undefined);
  }
}
