import { randomBytes, randomInt } from 'node:crypto';
import { WxBizMsgCrypt } from '@im-approval/plugin-im-approval-node';
import { XMLBuilder } from 'fast-xml-parser';
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
import type { WecomApp, WecomInstance, WecomState } from './state';
import { seconds, spRecords } from './workflow';

// Tells the app that created a request about each change to it, as WeCom does: a POST to the
// app's callback URL with `msg_signature`, `timestamp` (seconds) and `nonce` on the query and the
// XML envelope <xml><ToUserName/><Encrypt/><AgentID/></xml> as the body, the message inside
// encrypted for receiveId = CorpID. HTTP 200 (empty or "success") acknowledges it; anything else
// is retried. Saving a callback URL first makes the GET echostr check, which needs the bare plaintext back.

/** WeCom hangs up on a receiver that has not answered within 5 s, and tries again, three times in all. */
export const WECOM_ANSWER_DEADLINE_MS = 5000;
const WECOM_RETRIES = 3;

const xml = new XMLBuilder({ cdataPropName: '#cdata' });
const cdata = (text: string) => ({ '#cdata': text });

const cryptOf = (state: WecomState, app: WecomApp) =>
  new WxBizMsgCrypt({
    token: app.token,
    encodingAesKey: app.encodingAesKey,
    receiveId: state.corpId,
  });

/** WeCom's nonces are decimal numbers. */
const newNonce = () => String(randomInt(1_000_000_000, 2_000_000_000));

/** The decrypted sys_approval_change message: the request as it is now, and what just happened. */
export function approvalChangeXml(
  state: WecomState,
  instance: WecomInstance,
  statuChangeEvent: number,
  now: number,
): string {
  const approvalInfo = {
    SpNo: instance.spNo,
    SpName: cdata(instance.spName),
    SpStatus: instance.spStatus,
    TemplateId: cdata(instance.templateId),
    ApplyTime: seconds(instance.applyTime),
    Applyer: { UserId: cdata(instance.applicant), Party: cdata('1') },
    SpRecord: spRecords(instance).map(record => ({
      SpStatus: record.spStatus,
      ApproverAttr: record.approverAttr,
      Details: record.details.map(detail => ({
        Approver: { UserId: cdata(detail.userId) },
        Speech: cdata(detail.speech),
        SpStatus: detail.spStatus,
        SpTime: detail.spTime,
      })),
    })),
    Notifyer: instance.notifyer.map(userId => ({ UserId: cdata(userId) })),
    Comments: instance.comments.map(comment => ({
      CommentUserInfo: { UserId: cdata(comment.userId) },
      CommentTime: seconds(comment.time),
      CommentContent: cdata(comment.content),
      CommentId: cdata(comment.commentId),
    })),
    StatuChangeEvent: statuChangeEvent,
  };
  return xml.build({
    xml: {
      ToUserName: cdata(state.corpId),
      FromUserName: cdata('sys'),
      CreateTime: seconds(now),
      MsgType: cdata('event'),
      Event: cdata('sys_approval_change'),
      AgentID: instance.agentId,
      ApprovalInfo: approvalInfo,
    },
  });
}

/** Why an answer does not acknowledge an event; undefined when it does. */
function eventRefusal(answer: HttpAnswer): string | undefined {
  if (answer.status !== 200) return `HTTP ${answer.status}`;
  const body = answer.body.trim();
  return body === '' || body === 'success'
    ? undefined
    : `the reply is not empty or "success": ${JSON.stringify(answer.body.slice(0, 80))}`;
}

export class WecomEvents {
  private readonly http: HttpDelivery;

  constructor(
    private readonly state: WecomState,
    private readonly log: DeliveryLog,
    options: { retryDelaysMs: number[] },
  ) {
    // WeCom tries a push three more times at most.
    this.http = new HttpDelivery(log, {
      retryDelaysMs: options.retryDelaysMs.slice(0, WECOM_RETRIES),
      answerDeadlineMs: WECOM_ANSWER_DEADLINE_MS,
    });
  }

  /** Only the app that created the request hears of it. */
  publish(
    instance: WecomInstance,
    statuChangeEvent: number,
    control: DeliveryControl = {},
  ): void {
    const app = this.state.apps.get(instance.agentId);
    const url = app?.callbackUrl;
    if (!app || url === undefined) return;
    const identity: EventIdentity & { url: string } = {
      eventId: randomBytes(16).toString('hex'),
      eventType: 'sys_approval_change',
      eventStatus: `SpStatus ${instance.spStatus} StatuChangeEvent ${statuChangeEvent}`,
      instanceId: instance.spNo,
      appId: String(app.agentId),
      channel: 'callback',
      url,
    };
    if (app.callbacks === 'off') {
      this.log.record(identity, {
        attempt: 0,
        outcome: 'skipped',
        error: 'callbacks are off for this app',
        willRetry: false,
      });
      return;
    }
    this.http.deliver(
      this.eventPush(
        app,
        identity,
        approvalChangeXml(this.state, instance, statuChangeEvent, Date.now()),
      ),
      control,
    );
  }

  /** The check WeCom makes when a callback URL is saved: undefined when the answer is the bare echostr plaintext. */
  verifyUrl(app: WecomApp, url: string): Promise<string | undefined> {
    const crypt = cryptOf(this.state, app);
    const plaintext =
      String(randomInt(1_000_000_000, 2_000_000_000)) +
      String(randomInt(1_000_000_000, 2_000_000_000));
    const echostr = crypt.encrypt(plaintext);
    const event = {
      eventId: randomBytes(16).toString('hex'),
      eventType: 'url_verification',
      eventStatus: '',
      instanceId: '',
      appId: String(app.agentId),
      channel: 'callback' as const,
      url,
    };
    return this.http.probe({
      event,
      request: () => {
        const timestamp = String(seconds(Date.now()));
        const nonce = newNonce();
        const query = new URLSearchParams({
          msg_signature: crypt.signature(timestamp, nonce, echostr),
          timestamp,
          nonce,
          echostr,
        });
        return { method: 'GET', url, query, headers: {} };
      },
      refusal: answer => {
        if (answer.status !== 200) return `HTTP ${answer.status}`;
        if (answer.body === plaintext) return undefined;
        return `the answer is not the bare decrypted echostr ${plaintext} (no quotes, no newline): ${JSON.stringify(answer.body.slice(0, 80))}`;
      },
    });
  }

  reset(): void {
    this.http.reset();
  }

  close(): void {
    this.http.close();
  }

  private eventPush(
    app: WecomApp,
    event: EventIdentity & { url: string },
    plaintext: string,
  ): HttpPush {
    const crypt = cryptOf(this.state, app);
    // Encrypted once: a redelivery carries the same ciphertext, freshly signed.
    const encrypt = crypt.encrypt(plaintext);
    const body = xml.build({
      xml: {
        ToUserName: cdata(this.state.corpId),
        Encrypt: cdata(encrypt),
        AgentID: cdata(String(app.agentId)),
      },
    });
    return {
      event,
      request: () => {
        const timestamp = String(seconds(Date.now()));
        const nonce = newNonce();
        const query = new URLSearchParams({
          msg_signature: crypt.signature(timestamp, nonce, encrypt),
          timestamp,
          nonce,
        });
        return {
          method: 'POST',
          url: event.url,
          query,
          headers: { 'content-type': 'text/xml' },
          body,
        };
      },
      refusal: eventRefusal,
    };
  }
}
