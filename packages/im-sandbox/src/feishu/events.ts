import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { feishuEncrypt, feishuSignature } from '@im-approval/plugin-im-approval-node';
import type { FeishuApp, Instance, InstanceChange } from './model';
import type { FeishuState } from './state';

// Pushes v1 approval events to subscribed apps the way Feishu does: the same envelope,
// encryption and signature, redelivery until HTTP 200 — plus the misbehaviour (duplicates,
// delays, drops) a robust receiver must survive.

/** The one tenant the sandbox plays; Feishu puts its key in every event. */
export const SANDBOX_TENANT_KEY = '2ed263bf32cf1651';
// Feishu drops a push that gets no answer within 3 s, then redelivers.
const RESPONSE_TIMEOUT_MS = 3000;

export interface DeliveryControl {
  /** Deliver every event twice, with the same event uuid. */
  duplicate?: boolean;
  /** Deliver this long after the change. */
  delayMs?: number;
  /** Do not deliver at all (as if the push was lost for good). */
  drop?: boolean;
}

export interface DeliveryRecord {
  eventUuid: string;
  eventType: 'approval_task' | 'approval_instance';
  /** The task's or the instance's status the event reports. */
  eventStatus: string;
  instanceCode: string;
  appId: string;
  url: string;
  /** 1 for the first try; 0 when nothing was sent. */
  attempt: number;
  outcome: 'delivered' | 'failed' | 'dropped' | 'skipped';
  httpStatus?: number;
  error?: string;
  willRetry: boolean;
  at: string;
}

type AttemptResult = Pick<DeliveryRecord, 'attempt' | 'outcome' | 'httpStatus' | 'error' | 'willRetry'>;

interface Push {
  app: FeishuApp;
  url: string;
  eventUuid: string;
  eventType: DeliveryRecord['eventType'];
  eventStatus: string;
  instanceCode: string;
  body: string;
  generation: number;
}

export class CallbackDelivery {
  private readonly records: DeliveryRecord[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly requests = new Set<http.ClientRequest>();
  /** Bumped by reset() so answers to abandoned pushes are not recorded. */
  private generation = 0;
  private closed = false;

  constructor(
    private readonly state: FeishuState,
    private readonly options: { retryDelaysMs: number[]; log: (line: string) => void },
  ) {}

  /** Sends one event per change to every app subscribed to the instance's approval. */
  publish(instance: Instance, changes: InstanceChange[], control: DeliveryControl = {}): void {
    for (const app of this.state.apps.values()) {
      if (app.callbackUrl === undefined || !app.subscriptions.has(instance.approvalCode)) continue;
      for (const change of changes) {
        const push = this.buildPush(app, app.callbackUrl, instance, change);
        if (app.callbacks === 'off') {
          this.record(push, { attempt: 0, outcome: 'skipped', error: 'callbacks are off for this app', willRetry: false });
        } else if (control.drop) {
          this.record(push, { attempt: 0, outcome: 'dropped', willRetry: false });
        } else {
          for (let copy = 0; copy < (control.duplicate ? 2 : 1); copy += 1) {
            this.schedule(() => this.attempt(push, 1), control.delayMs ?? 0);
          }
        }
      }
    }
  }

  deliveries(): DeliveryRecord[] {
    return [...this.records];
  }

  /** Abandons pending and in-flight pushes and forgets the log. */
  reset(): void {
    this.generation += 1;
    this.cancelAll();
    this.records.length = 0;
  }

  close(): void {
    this.closed = true;
    this.cancelAll();
  }

  private buildPush(app: FeishuApp, url: string, instance: Instance, change: InstanceChange): Push {
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
            custom_key: instance.nodes.find(node => node.nodeId === change.nodeId)?.customNodeId ?? '',
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
    return {
      app,
      url,
      eventUuid,
      eventType: change.kind === 'task' ? 'approval_task' : 'approval_instance',
      eventStatus: change.status,
      instanceCode: instance.instanceCode,
      // Encrypted once: a redelivery carries the same ciphertext, only freshly signed.
      body: app.encryptKey === undefined ? plaintext : JSON.stringify({ encrypt: feishuEncrypt(app.encryptKey, plaintext) }),
      generation: this.generation,
    };
  }

  private attempt(push: Push, attempt: number): void {
    const headers: http.OutgoingHttpHeaders = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(push.body),
    };
    if (push.app.encryptKey !== undefined) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const nonce = randomBytes(8).toString('hex');
      headers['x-lark-request-timestamp'] = timestamp;
      headers['x-lark-request-nonce'] = nonce;
      headers['x-lark-signature'] = feishuSignature(timestamp, nonce, push.app.encryptKey, push.body);
    }
    this.send(push.url, headers, push.body).then(
      httpStatus => this.settle(push, attempt, { httpStatus }),
      (error: Error) => this.settle(push, attempt, { error: error.message }),
    );
  }

  private settle(push: Push, attempt: number, result: { httpStatus?: number; error?: string }): void {
    if (this.closed || push.generation !== this.generation) return;
    const delivered = result.httpStatus === 200;
    const retryDelay = delivered ? undefined : this.options.retryDelaysMs[attempt - 1];
    const outcome = delivered ? 'delivered' : 'failed';
    this.record(push, { ...result, attempt, outcome, willRetry: retryDelay !== undefined });
    if (retryDelay !== undefined) this.schedule(() => this.attempt(push, attempt + 1), retryDelay);
  }

  private send(url: string, headers: http.OutgoingHttpHeaders, body: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const transport = url.startsWith('https:') ? https : http;
      // No connection reuse: a receiver that is shut down must not be kept alive by the sandbox.
      const request = transport.request(url, { method: 'POST', headers, agent: false, timeout: RESPONSE_TIMEOUT_MS });
      this.requests.add(request);
      request.on('timeout', () => request.destroy(new Error(`no answer within ${RESPONSE_TIMEOUT_MS} ms`)));
      request.on('error', error => {
        this.requests.delete(request);
        reject(error);
      });
      request.on('response', response => {
        this.requests.delete(request);
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.end(body);
    });
  }

  private schedule(run: () => void, delayMs: number): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, delayMs);
    this.timers.add(timer);
  }

  private cancelAll(): void {
    this.timers.forEach(timer => clearTimeout(timer));
    this.timers.clear();
    this.requests.forEach(request => request.destroy());
    this.requests.clear();
  }

  private record(push: Push, result: AttemptResult): void {
    const record: DeliveryRecord = {
      eventUuid: push.eventUuid,
      eventType: push.eventType,
      eventStatus: push.eventStatus,
      instanceCode: push.instanceCode,
      appId: push.app.appId,
      url: push.url,
      ...result,
      at: new Date().toISOString(),
    };
    this.records.push(record);
    const answer = record.httpStatus === undefined ? (record.error ?? '') : `HTTP ${record.httpStatus}`;
    const attempt = record.attempt > 0 ? ` (attempt ${record.attempt}, ${answer})` : '';
    const event = `${record.eventType} ${record.eventStatus} of ${record.instanceCode}`;
    this.options.log(`feishu: ${record.outcome} ${event} to ${record.appId}${attempt}`);
  }
}
