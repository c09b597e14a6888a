import { randomBytes } from 'node:crypto';
import { WxBizMsgCrypt } from '@im-approval/plugin-im-approval-node';
import { z } from 'zod';
import {
  HttpDelivery,
  type HttpAnswer,
  type HttpPush,
} from '../delivery/httpDelivery';
import type {
  DeliveryControl,
  DeliveryLog,
  EventIdentity,
} from '../delivery/log';
import type { LongConnections } from '../delivery/longConnections';
import type { DingtalkApp, DingtalkState } from './state';
import type { DingtalkEvent } from './workflow';

// Announces approval changes to the corp's apps as DingTalk does: an HTTP push to the app's
// callback URL, encrypted and signed for receiveId = AppKey, that counts as delivered only when
// the answer is this app's encrypted "success"; or, for an app in Stream mode, over its Stream
// connection as plain JSON.

const replySchema = z.object({
  msg_signature: z.string(),
  timeStamp: z.string(),
  nonce: z.string(),
  encrypt: z.string(),
});
// A reply's timeStamp must be a real one in milliseconds, within this of the sandbox's clock.
/** Every push, the URL check too, must be answered within 1.5 s. */
export const DINGTALK_ANSWER_DEADLINE_MS = 1500;

const REPLY_CLOCK_SKEW_MS = 10 * 60 * 1000;

/** What a Stream client receives as the frame's data and headers. */
export interface StreamEventPayload {
  eventId: string;
  eventType: string;
  data: Record<string, unknown>;
}

const cryptOf = (app: DingtalkApp) =>
  new WxBizMsgCrypt({
    token: app.token,
    encodingAesKey: app.aesKey,
    receiveId: app.receiveId ?? app.appKey,
  });

/** Why an answer is not the app's encrypted "success" reply; undefined when it is. */
export function replyRefusal(
  app: DingtalkApp,
  answer: HttpAnswer,
): string | undefined {
  if (answer.status !== 200) return `HTTP ${answer.status}`;
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    return 'the reply is not JSON {msg_signature, timeStamp, nonce, encrypt}';
  }
  const reply = replySchema.safeParse(json);
  if (!reply.success)
    return 'the reply is not JSON {msg_signature, timeStamp, nonce, encrypt}';
  const {
    msg_signature: signature,
    timeStamp: timestamp,
    nonce,
    encrypt,
  } = reply.data;
  if (
    !/^\d{13}$/.test(timestamp) ||
    Math.abs(Number(timestamp) - Date.now()) > REPLY_CLOCK_SKEW_MS
  ) {
    return `the reply's timeStamp ${timestamp} is not the current time in milliseconds`;
  }
  try {
    const plaintext = cryptOf(app).open({
      signature,
      timestamp,
      nonce,
      encrypt,
    });
    return plaintext === 'success'
      ? undefined
      : `the reply decrypts to "${plaintext}", not "success"`;
  } catch (error) {
    return `the reply is not this app's encrypted success: ${(error as Error).message}`;
  }
}

export class DingtalkEvents {
  private readonly http: HttpDelivery;

  constructor(
    private readonly state: DingtalkState,
    private readonly stream: LongConnections,
    private readonly log: DeliveryLog,
    options: { retryDelaysMs: number[] },
  ) {
    this.http = new HttpDelivery(log, {
      ...options,
      answerDeadlineMs: DINGTALK_ANSWER_DEADLINE_MS,
    });
  }

  /** Every app of the corp gets every approval event, as a corp-wide subscription does. */
  publish(events: DingtalkEvent[], control: DeliveryControl = {}): void {
    for (const app of this.state.apps.values()) {
      const url = app.mode === 'callback' ? app.callbackUrl : undefined;
      if (app.mode === 'callback' && url === undefined) continue;
      for (const payload of events) {
        const eventId = randomBytes(16).toString('hex');
        const identity: EventIdentity = {
          eventId,
          eventType: payload.EventType,
          eventStatus: [payload.type, payload.result].filter(Boolean).join(' '),
          instanceId: payload.processInstanceId,
          appId: app.appKey,
          channel: app.mode,
          ...(url === undefined ? {} : { url }),
        };
        if (app.callbacks === 'off') {
          this.log.record(identity, {
            attempt: 0,
            outcome: 'skipped',
            error: 'events are off for this app',
            willRetry: false,
          });
        } else if (url === undefined) {
          const { EventType, ...data } = payload;
          const stream: StreamEventPayload = {
            eventId,
            eventType: EventType,
            data: { ...data, eventId },
          };
          this.stream.deliver(app.appKey, identity, stream, control);
        } else {
          this.http.deliver(
            this.push(
              app,
              { ...identity, url },
              JSON.stringify({ ...payload, eventId }),
            ),
            control,
          );
        }
      }
    }
  }

  /** The check DingTalk makes when a callback URL is saved: undefined when the reply is right. */
  checkUrl(app: DingtalkApp, url: string): Promise<string | undefined> {
    const identity = {
      eventId: randomBytes(16).toString('hex'),
      eventType: 'check_url',
      eventStatus: '',
      instanceId: '',
      appId: app.appKey,
      channel: 'callback' as const,
      url,
    };
    return this.http.probe(
      this.push(app, identity, JSON.stringify({ EventType: 'check_url' })),
    );
  }

  reset(): void {
    this.http.reset();
  }

  close(): void {
    this.http.close();
  }

  private push(
    app: DingtalkApp,
    event: EventIdentity & { url: string },
    plaintext: string,
  ): HttpPush {
    const crypt = cryptOf(app);
    // Encrypted once: a redelivery carries the same ciphertext, freshly signed.
    const encrypt = crypt.encrypt(plaintext);
    return {
      event,
      request: () => {
        const timestamp = String(
          app.timestampUnit === 's'
            ? Math.floor(Date.now() / 1000)
            : Date.now(),
        );
        const nonce = randomBytes(4).toString('hex');
        const signature = crypt.signature(timestamp, nonce, encrypt);
        // DingTalk names the signature both ways on the URL.
        const query = new URLSearchParams({
          msg_signature: signature,
          signature,
          timestamp,
          nonce,
        });
        return {
          method: 'POST',
          url: event.url,
          query,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ encrypt }),
        };
      },
      refusal: answer => replyRefusal(app, answer),
    };
  }
}
