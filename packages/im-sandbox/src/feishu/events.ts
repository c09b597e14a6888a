import { randomBytes } from 'node:crypto';
import {
  feishuEncrypt,
  feishuSignatureHeaders,
} from '@im-approval/plugin-im-approval-node';
import { HttpDelivery, type HttpPush } from '../delivery/httpDelivery';
import type {
  DeliveryControl,
  DeliveryLog,
  EventIdentity,
  ImDeliveryRecord,
} from '../delivery/log';
import type { LongConnections } from '../delivery/longConnections';
import type { FeishuApp, Instance, InstanceChange } from './model';
import type { FeishuState } from './state';

// Announces approval changes to subscribed apps as Feishu does: v1 events, pushed to the app's
// request URL (encrypted and signed when it has an encrypt key) or, for an app in long-connection
// mode, over its WebSocket as plain JSON.

/** The one tenant the sandbox plays; Feishu puts its key in every event. */
export const SANDBOX_TENANT_KEY = '2ed263bf32cf1651';

/** A delivery as the Feishu control API reports it, in Feishu's words for the ids. */
export type DeliveryRecord = Omit<
  ImDeliveryRecord,
  'eventId' | 'instanceId'
> & { eventUuid: string; instanceCode: string };

/** Feishu counts a push unanswered after about 3 s (im-protocols.md 1.7). */
export const FEISHU_ANSWER_DEADLINE_MS = 3000;

/**
 * Feishu's retry schedule for a push that got no HTTP 200 within the answer deadline:
 * about 15 s, 5 min, 1 h and 6 h later (im-protocols.md 1.7).
 */
export const FEISHU_RETRY_DELAYS_MS: readonly number[] = [
  15_000,
  5 * 60_000,
  60 * 60_000,
  6 * 60 * 60_000,
];

/** Feishu's retry schedule compressed by `timeScale` (e.g. 0.001: 15 ms, 300 ms, 3.6 s, 21.6 s). */
export function feishuRetryDelaysMs(timeScale: number): number[] {
  return FEISHU_RETRY_DELAYS_MS.map(delay =>
    Math.max(1, Math.round(delay * timeScale)),
  );
}

export class FeishuEvents {
  readonly log: DeliveryLog;
  private readonly http: HttpDelivery;
  /**
   * Events of one instance are delivered to an app in order, and while one is unanswered the later
   * ones wait (Feishu's approval events FAQ): per app and instance, the pushes still to be sent.
   */
  private readonly held = new Map<string, Array<() => void>>();

  constructor(
    private readonly state: FeishuState,
    private readonly connections: LongConnections,
    log: DeliveryLog,
    options: { retryDelaysMs: number[] },
  ) {
    this.log = log;
    this.http = new HttpDelivery(log, {
      ...options,
      answerDeadlineMs: FEISHU_ANSWER_DEADLINE_MS,
    });
  }

  /** Sends one event per change to every app subscribed to the instance's approval. */
  publish(
    instance: Instance,
    changes: InstanceChange[],
    control: DeliveryControl = {},
  ): void {
    for (const app of this.state.apps.values()) {
      if (!app.subscriptions.has(instance.approvalCode)) continue;
      const url = app.mode === 'callback' ? app.callbackUrl : undefined;
      if (app.mode === 'callback' && url === undefined) continue;
      for (const change of changes) {
        const { eventUuid, plaintext } = this.buildEvent(app, instance, change);
        const event: EventIdentity = {
          eventId: eventUuid,
          eventType:
            change.kind === 'task' ? 'approval_task' : 'approval_instance',
          eventStatus: change.status,
          instanceId: instance.instanceCode,
          appId: app.appId,
          channel: app.mode,
          ...(url === undefined ? {} : { url }),
        };
        if (app.callbacks === 'off') {
          this.log.record(event, {
            attempt: 0,
            outcome: 'skipped',
            error: 'events are off for this app',
            willRetry: false,
          });
        } else if (url === undefined) {
          this.inOrder(`${app.appId} ${instance.instanceCode}`, done =>
            this.connections.deliver(
              app.appId,
              event,
              plaintext,
              control,
              done,
            ),
          );
        } else {
          const push = this.httpPush(app, { ...event, url }, plaintext);
          this.inOrder(`${app.appId} ${instance.instanceCode}`, done =>
            this.http.deliver(push, control, done),
          );
        }
      }
    }
  }

  deliveries(): DeliveryRecord[] {
    return this.log.all().map(({ eventId, instanceId, ...rest }) => ({
      eventUuid: eventId,
      instanceCode: instanceId,
      ...rest,
    }));
  }

  reset(): void {
    this.held.clear();
    this.http.reset();
  }

  close(): void {
    this.held.clear();
    this.http.close();
  }

  /** Runs `send` once every earlier push of `key` is settled (acknowledged or out of retries). */
  private inOrder(key: string, send: (done: () => void) => void): void {
    const queue = this.held.get(key);
    const run = () =>
      send(() => {
        const rest = this.held.get(key);
        if (!rest) return;
        rest.shift();
        if (rest.length === 0) this.held.delete(key);
        else rest[0]();
      });
    if (queue) {
      queue.push(run);
      return;
    }
    this.held.set(key, [run]);
    run();
  }

  private buildEvent(
    app: FeishuApp,
    instance: Instance,
    change: InstanceChange,
  ): { eventUuid: string; plaintext: string } {
    const common = {
      app_id: app.appId,
      tenant_key: SANDBOX_TENANT_KEY,
      approval_code: instance.approvalCode,
      instance_code: instance.instanceCode,
      status: change.status,
      operate_time: String(change.at),
    };
    const event =
      change.kind === 'task'
        ? {
            ...common,
            type: 'approval_task',
            task_id: change.taskId,
            open_id: change.openId,
            user_id: this.state.users.get(change.openId)?.userId ?? '',
            custom_key:
              instance.nodes.find(node => node.nodeId === change.nodeId)
                ?.customNodeId ?? '',
            def_key: change.nodeId,
          }
        : {
            ...common,
            type: 'approval_instance',
            instance_operate_time: String(change.at),
            ...(instance.uuid === undefined ? {} : { uuid: instance.uuid }),
          };
    const eventUuid = randomBytes(16).toString('hex');
    const plaintext = JSON.stringify({
      uuid: eventUuid,
      token: app.verificationToken,
      ts: (Date.now() / 1000).toFixed(6),
      type: 'event_callback',
      event,
    });
    return { eventUuid, plaintext };
  }

  private httpPush(
    app: FeishuApp,
    event: EventIdentity & { url: string },
    plaintext: string,
  ): HttpPush {
    // Encrypted once: a redelivery carries the same ciphertext, only freshly signed.
    const body =
      app.encryptKey === undefined
        ? plaintext
        : JSON.stringify({ encrypt: feishuEncrypt(app.encryptKey, plaintext) });
    return {
      event,
      request: () => {
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          ...(app.encryptKey === undefined
            ? {}
            : feishuSignatureHeaders(app.encryptKey, body)),
        };
        // Each attempt goes to the request URL configured now, as Feishu's redeliveries do.
        return {
          method: 'POST',
          url: app.callbackUrl ?? event.url,
          headers,
          body,
        };
      },
      refusal: answer =>
        answer.status === 200 ? undefined : `HTTP ${answer.status}`,
    };
  }
}
