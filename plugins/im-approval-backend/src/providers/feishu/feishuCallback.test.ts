import { feishuIntegrationSchema } from '@im-approval/plugin-im-approval-common';
import {
  feishuEncrypt,
  feishuSignature,
} from '@im-approval/plugin-im-approval-node';
import { parseFeishuCallback, parseFeishuCardCallback } from './feishuCallback';
import { callbackRejection } from '../__testUtils__/providerTestUtils';

const base = {
  id: 'feishu-test',
  provider: 'feishu',
  appId: 'cli_test',
  appSecret: 'secret',
  verificationToken: 'v-token',
  initiator: 'ou_bot',
};
const encrypted = feishuIntegrationSchema.parse({
  ...base,
  encryptKey: 'e-key',
});
/** Without an Encrypt Key an integration can only be held over the long connection or polled. */
const plain = feishuIntegrationSchema.parse({
  ...base,
  connectionMode: 'poll',
});
const now = new Date('2026-11-21T08:00:00Z');
const nowSeconds = String(now.getTime() / 1000);
const options = { now, maxAgeSeconds: 300 };

function v1Event(overrides: Record<string, unknown> = {}) {
  return {
    uuid: 'evt-1',
    token: 'v-token',
    ts: nowSeconds,
    type: 'event_callback',
    event: {
      type: 'approval_instance',
      instance_code: 'INST-1',
      status: 'APPROVED',
      operate_time: 1763712000000,
    },
    ...overrides,
  };
}

function signedRequest(
  payload: unknown,
  { key = 'e-key', timestamp = nowSeconds, tamper = false } = {},
) {
  const rawBody = Buffer.from(
    JSON.stringify({ encrypt: feishuEncrypt(key, JSON.stringify(payload)) }),
  );
  const headers = {
    'x-lark-request-timestamp': timestamp,
    'x-lark-request-nonce': 'n0nce',
    'x-lark-signature': feishuSignature(timestamp, 'n0nce', key, rawBody),
  };
  const body = tamper
    ? Buffer.from(rawBody.toString().replace('{"encrypt"', '{ "encrypt"'))
    : rawBody;
  return { method: 'POST', headers, query: {}, rawBody: body };
}

describe('parseFeishuCallback', () => {
  it('returns the approval event of a signed, encrypted v1 callback', () => {
    const result = parseFeishuCallback(
      signedRequest(v1Event()),
      encrypted,
      options,
    );
    expect(result.events).toEqual([{ eventId: 'evt-1', instanceId: 'INST-1' }]);
    expect(result.reply.status).toBe(200);
  });

  it('answers the URL handshake with the challenge, without a signature', () => {
    const request = signedRequest({
      type: 'url_verification',
      challenge: 'ch-42',
      token: 'v-token',
    });
    const result = parseFeishuCallback(
      { ...request, headers: {} },
      encrypted,
      options,
    );
    expect(JSON.parse(result.reply.body)).toEqual({ challenge: 'ch-42' });
    expect(result.events).toEqual([]);
  });

  it('acknowledges other event types and applies nothing', () => {
    const result = parseFeishuCallback(
      signedRequest(
        v1Event({ event: { type: 'leave_approval', instance_code: 'X' } }),
      ),
      encrypted,
      options,
    );
    expect(result).toMatchObject({ events: [], reply: { status: 200 } });
  });

  it.each([
    [
      'a tampered body',
      () => signedRequest(v1Event(), { tamper: true }),
      401,
      /Signature does not match/,
    ],
    [
      'another encrypt key',
      () => signedRequest(v1Event(), { key: 'forged-key' }),
      401,
      /decrypt/,
    ],
    [
      'a stale timestamp',
      () =>
        signedRequest(v1Event(), {
          timestamp: String(now.getTime() / 1000 - 301),
        }),
      401,
      /stale/,
    ],
    [
      'a wrong verification token',
      () => signedRequest(v1Event({ token: 'guess' })),
      401,
      /verification token/,
    ],
    [
      'a missing signature',
      () => ({ ...signedRequest(v1Event()), headers: {} }),
      401,
      /missing/,
    ],
    [
      // What another key yields whenever the padding happens to hold: noise that is not JSON.
      'text under the key that is not JSON',
      () => ({
        method: 'POST',
        headers: {},
        query: {},
        rawBody: Buffer.from(
          JSON.stringify({ encrypt: feishuEncrypt('e-key', '\u0007noise') }),
        ),
      }),
      401,
      /decrypt/,
    ],
    [
      'a plain body',
      () => ({
        method: 'POST',
        headers: {},
        query: {},
        rawBody: Buffer.from(JSON.stringify(v1Event())),
      }),
      400,
      /encrypted body/,
    ],
    [
      'a body that is not JSON',
      () => ({
        method: 'POST',
        headers: {},
        query: {},
        rawBody: Buffer.from('<xml/>'),
      }),
      400,
      /not JSON/,
    ],
  ])('rejects %s', (_, request, status, message) => {
    const error = callbackRejection(() =>
      parseFeishuCallback(request(), encrypted, options),
    );
    expect(error.status).toBe(status);
    expect(error.message).toMatch(message);
  });

  it("accepts a redelivery hours after the event, freshly signed (freshness is the signature's)", () => {
    const hoursAgo = String(now.getTime() / 1000 - 6 * 3600);
    expect(
      parseFeishuCallback(
        signedRequest(v1Event({ ts: hoursAgo })),
        encrypted,
        options,
      ).events,
    ).toHaveLength(1);
  });

  it('takes no callbacks without an Encrypt Key: a plaintext verification token proves nothing', () => {
    const request = (payload: unknown) => ({
      method: 'POST',
      headers: {},
      query: {},
      rawBody: Buffer.from(JSON.stringify(payload)),
    });
    for (const payload of [
      v1Event(),
      { type: 'url_verification', challenge: 'ch', token: 'v-token' },
    ]) {
      const error = callbackRejection(() =>
        parseFeishuCallback(request(payload), plain, options),
      );
      expect(error.status).toBe(400);
      expect(error.message).toBe(
        'Feishu integration "feishu-test" takes no HTTP callbacks (connection mode poll, no Encrypt Key)',
      );
    }
  });

  it('refuses callbacks to an app that has no Verification Token (set up for a long connection)', () => {
    const { verificationToken: _token, ...withoutToken } = base;
    const held = feishuIntegrationSchema.parse({
      ...withoutToken,
      encryptKey: 'e-key',
      connectionMode: 'long-connection',
    });
    const error = callbackRejection(() =>
      parseFeishuCallback(signedRequest(v1Event()), held, options),
    );
    expect(error.status).toBe(400);
    expect(error.message).toBe(
      'Feishu integration "feishu-test" takes no HTTP callbacks (connection mode long-connection, no Verification Token)',
    );
  });
});

describe('Feishu integrations in callback mode', () => {
  it('need an Encrypt Key, naming the field and where to find it', () => {
    const parsed = feishuIntegrationSchema.safeParse(base);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues).toEqual([
      expect.objectContaining({
        path: ['encryptKey'],
        message: expect.stringMatching(
          /^is required when connectionMode is callback: .*Encrypt Key/,
        ),
      }),
    ]);
    expect(
      feishuIntegrationSchema.safeParse({
        ...base,
        connectionMode: 'long-connection',
      }).success,
    ).toBe(true);
  });
});

describe('parseFeishuCardCallback', () => {
  const cardAction = (overrides: Record<string, unknown> = {}) => ({
    schema: '2.0',
    header: {
      event_id: 'evt-card-1',
      token: 'v-token',
      event_type: 'card.action.trigger',
      create_time: String(now.getTime()),
    },
    event: {
      operator: { open_id: 'ou_alice' },
      action: {
        value: { approvalId: 'a-1', action: 'approve' },
        tag: 'button',
        form_value: { comment: '  ship it ' },
      },
      context: { open_message_id: 'om_1', open_chat_id: 'oc_room' },
    },
    ...overrides,
  });

  it("reads a signed click on one of the backend's cards: who, which approval, what, the chat and the comment", () => {
    const callback = parseFeishuCardCallback(
      signedRequest(cardAction()),
      encrypted,
      options,
    );
    expect(callback.click).toEqual({
      eventId: 'evt-card-1',
      approvalId: 'a-1',
      action: 'approve',
      userId: 'ou_alice',
      chatId: 'oc_room',
      comment: 'ship it',
    });
    const reply = callback.reply({
      toast: {
        kind: 'error',
        text: 'You are not an approver of this request.',
      },
    });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({
      toast: {
        type: 'error',
        content: 'You are not an approver of this request.',
      },
    });
  });

  it('answers the URL handshake with the challenge', () => {
    const callback = parseFeishuCardCallback(
      signedRequest({
        type: 'url_verification',
        challenge: 'c-1',
        token: 'v-token',
      }),
      encrypted,
      options,
    );
    expect(callback.click).toBeUndefined();
    expect(JSON.parse(callback.reply().body)).toEqual({ challenge: 'c-1' });
  });

  it.each([
    [
      'a tampered body',
      () => signedRequest(cardAction(), { tamper: true }),
      401,
    ],
    [
      'another key',
      () => signedRequest(cardAction(), { key: 'other-key' }),
      401,
    ],
    [
      'a stale signature',
      () =>
        signedRequest(cardAction(), {
          timestamp: String(now.getTime() / 1000 - 3600),
        }),
      401,
    ],
    [
      'another verification token',
      () =>
        signedRequest(
          cardAction({
            header: { ...cardAction().header, token: 'not-ours' },
          }),
        ),
      401,
    ],
    [
      'an approval event sent to the card URL',
      () => signedRequest(v1Event()),
      400,
    ],
    [
      "a button that is not one of the backend's",
      () =>
        signedRequest(
          cardAction({
            event: {
              ...cardAction().event,
              action: { value: { anything: 'else' }, tag: 'button' },
            },
          }),
        ),
      400,
    ],
  ])('rejects %s', (_, request, status) => {
    expect(
      callbackRejection(() =>
        parseFeishuCardCallback(request(), encrypted, options),
      ).status,
    ).toBe(status);
  });

  it('takes no card callbacks for an integration without an Encrypt Key', () => {
    expect(
      callbackRejection(() =>
        parseFeishuCardCallback(signedRequest(cardAction()), plain, options),
      ).status,
    ).toBe(400);
  });
});
