import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  oneLine,
  TEXT_LIMITS,
  type Approval,
  type FormValue,
  type Requester,
  type TimelineSource,
} from '@im-approval/plugin-im-approval-common';
import {
  ImApiError,
  type ImClient,
  type ImInstanceRef,
  type ImInstanceRequest,
} from '@im-approval/plugin-im-approval-node';
import type { ApprovalStore } from '../database/ApprovalStore';
import type { CommitCounter } from '../github/CommitCounter';
import { counts } from './approvalStages';
import type { ApprovalTransitions } from './ApprovalTransitions';
import type { CountedStages } from './CountedStages';
import { requestContext } from './requestContext';
import type { SettingsSource } from './SettingsSource';

/** The requester as approvers read it in the IM: "Alice Chen (GitHub alice)". */
function requestedBy(requester: Requester): string {
  if (!requester.githubLogin) return requester.name;
  return requester.githubLogin === requester.name
    ? `GitHub user ${requester.githubLogin}`
    : `${requester.name} (GitHub ${requester.githubLogin})`;
}

/**
 * A field's label as the IM gave it, as data to store and show: one line, trimmed, within a field
 * name's size in UTF-16 units as the schema counts (oneLine cuts by characters); undefined when empty.
 */
function storableLabel(label: string): string | undefined {
  const limit = TEXT_LIMITS.fieldName;
  let line = oneLine(label, limit).trim();
  // Cutting the cut line again drops its ellipsis with the character before it.
  for (let max = limit - 1; line.length > limit; max--)
    line = oneLine(line, max);
  return line || undefined;
}

/** The form with the IM's label of each field; undefined when the IM told none, so the stored form stays. */
function labelled(
  form: FormValue[],
  labels: ImInstanceRef['labels'],
): FormValue[] | undefined {
  if (!labels?.size) return undefined;
  return form.map(value => {
    const told = labels.get(value.field);
    const label = told === undefined ? undefined : storableLabel(told);
    return label ? { ...value, label } : value;
  });
}

/** How far the IM's clock may lag ours when looking for an instance an earlier attempt made. */
const EARLIEST_ATTEMPT_SKEW_MS = 2 * 60_000;

/**
 * Creates the IM instance of a stored approval: right after the API stores it, and again from the
 * reconciler for one whose IM failed transiently. A transient failure is kept on the approval (and
 * in its timeline) for the next try; a permanent one fails the approval with the IM's sentence.
 */
export class ImInstanceOpener {
  private readonly attemptListeners: Array<(approval: Approval) => void> = [];
  /** Opens approvals whose stages count approvals: each approver's request of their own. */
  counted?: CountedStages;

  /**
   * Called after each attempt that leaves the approval pending: with its IM instance, or with the
   * transient error it will be retried after (deployment gates tell GitHub either way).
   */
  onAttempt(listener: (approval: Approval) => void) {
    this.attemptListeners.push(listener);
  }

  constructor(
    private readonly options: {
      store: ApprovalStore;
      settings: SettingsSource;
      transitions: ApprovalTransitions;
      logger: LoggerService;
      /** How many commits a request brings, where the GitHub App counts them. */
      commits?: CommitCounter;
    },
  ) {}

  /** What the IM is asked to open for the approval, and the client to ask with. */
  async requestFor(
    approval: Approval,
  ): Promise<{ client: ImClient; request: ImInstanceRequest }> {
    const { settings, transitions, store } = this.options;
    const template = await settings.template(approval.template);
    if (!template)
      throw new Error(`template "${approval.template}" no longer exists`);
    const client = await transitions.clientOfApproval(approval);
    // On the requester's behalf where the IM knows them, so approvers see who asks; else the app's initiator, and the title says who.
    const requester = approval.requester;
    const [[requesterId], previous] = await Promise.all([
      requester?.imUser ? client.findUsers([requester.imUser]) : [undefined],
      store.lastApproved(approval),
    ]);
    const commits = await this.options.commits?.between(approval, previous);
    const test = approval.context.test === true;
    const title =
      requesterId || !requester || requester.identifiedBy === 'unidentified'
        ? approval.title
        : `${approval.title} · requested by ${requestedBy(requester)}`;
    const request: ImInstanceRequest = {
      approvalId: approval.id,
      form: await settings.formOf(template),
      // Approvers always see a test for what it is, whatever title its sender chose.
      title: test && !/^\[test\]/i.test(title) ? `[Test] ${title}` : title,
      fields: approval.form,
      stages:
        approval.stages.length > 0
          ? approval.stages.map(stage => ({
              ...(stage.name === null ? {} : { name: stage.name }),
              approvers: stage.approvers,
              rule: stage.rule,
            }))
          : [{ approvers: approval.approvers, rule: template.approverMode }],
      initiator: requesterId ?? template.initiator,
      context: requestContext(approval, previous, commits),
      ...(test ? { test } : {}),
      ...(approval.cc.length > 0 ? { cc: approval.cc } : {}),
    };
    return { client, request };
  }

  async open(approval: Approval, source: TimelineSource): Promise<Approval> {
    const { store, transitions, logger } = this.options;
    try {
      if (counts(approval) && this.counted) {
        const opened = await this.counted.open(approval, source);
        this.tell(opened);
        return opened;
      }
      const { client, request } = await this.requestFor(approval);
      // The reconciler only opens an approval whose first attempt is long past: that attempt may have
      // created the instance and lost the answer (a timeout, a 5xx, a crash before recording it).
      // IMs without an idempotency key are asked first, so a retry never opens a second instance.
      let found: ImInstanceRef | undefined;
      if (source === 'reconciler' && client.findCreated) {
        const candidates = await client.findCreated(
          request,
          new Date(Date.parse(approval.createdAt) - EARLIEST_ATTEMPT_SKEW_MS),
        );
        for (const candidate of candidates) {
          if (
            !(await store.findByInstance(
              approval.integration,
              candidate.instanceId,
            ))
          ) {
            found = candidate;
            break;
          }
        }
      }
      const instance = found ?? (await client.createInstance(request));
      const form = labelled(approval.form, instance.labels);
      const attached = await store.attachInstance(
        approval.id,
        { instanceId: instance.instanceId, url: instance.url, form },
        {
          type: 'im_instance_created',
          source,
          message: [
            found
              ? `${approval.provider} instance ${instance.instanceId}, found: an earlier attempt created it but its answer was lost`
              : `${approval.provider} instance ${instance.instanceId}`,
            ...(instance.notes ?? []),
          ].join('; '),
        },
      );
      if (attached) this.tell(attached);
      return attached ?? (await store.get(approval.id)) ?? approval;
    } catch (error) {
      const message = (error as Error).message;
      if (error instanceof ImApiError && error.transient) {
        logger.warn(`Approval ${approval.id}: ${message}`);
        await store.recordImError(approval.id, {
          type: 'im_error',
          source,
          message,
        });
        const retried = { ...approval, error: message };
        this.tell(retried);
        return retried;
      }
      logger.error(`Approval ${approval.id} failed: ${message}`);
      const failed = await transitions.finish(
        approval,
        { status: 'failed', error: message },
        { type: 'failed', source, message },
        // Requests a counting stage opened before the failure are withdrawn.
        { revoke: counts(approval) },
      );
      return failed ?? (await store.get(approval.id)) ?? approval;
    }
  }

  private tell(approval: Approval) {
    this.attemptListeners.forEach(listener => listener(approval));
  }
}
