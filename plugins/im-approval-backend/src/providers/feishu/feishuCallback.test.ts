import { feishuIntegrationSchema } from '@im-approval/plugin-im-approval-common';
import { feishuEncrypt, feishuSignature } from '@im-approval/plugin-im-approval-node';
import { parseFeishuCallback } from './feishuCallback';
import { callbackRejection } from '../testing/providerTestUtils';

const base = {
  id: 'feishu-test',
  provider: 'feishu',
  appId: 'cli_test',
  appSecret: 'secret',
  verificationToken: 'v-token',
  initiator: 'ou_bot',
};
const encrypted = feishuIntegrationSchema.parse({ ...base, encryptKey: 'e-key' });
const plain = feishuIntegrationSchema.parse(base);
const now = new Date('2026-11-21T08:00:00Z');
const nowSeconds = String(now.getTime() / 1000);
const options = { now, maxAgeSeconds: 300 };

function v1Event(overrides: Record<string, unknown> = {}) {
  return {
    uuid: 'evt-1',
    token: 'v-token',
    ts: nowSeconds,
    type: 'event_callback',
    event: { type: 'approval_instance', instance_code: 'INST-1', status: 'APPROVED', operate_time: 1763712000000 },
    ...overrides,
  };
}

function signedRequest(payload: unknown, { key = 'e-key', timestamp = nowSeconds, tamper = false } = {}) {
  const rawBody = Buffer.from(JSON.stringify({ encrypt: feishuEncrypt(key, JSON.stringify(payload)) }));
  const headers = {
    'x-lark-request-timestamp': timestamp,
    'x-lark-request-nonce': 'n0nce',
    'x-lark-signature': feishuSignature(timestamp, 'n0nce', key, rawBody),
  };
  const body = tamper ? Buffer.from(rawBody.toString().replace('{"encrypt"', '{ "encrypt"')) : rawBody;
  return { method: 'POST', headers, query: {}, rawBody: body };
}

describe('parseFeishuCallback', () => {
  it('returns the approval event of a signed, encrypted v1 callback', () => {
    const result = parseFeishuCallback(signedRequest(v1Event()), encrypted, options);
    expect(result.events).toEqual([{ eventId: 'evt-1', instanceId: 'INST-1' }]);
    expect(result.reply.status).toBe(200);
  });

  it('answers the URL handshake with the challenge, without a signature', () => {
    const request = signedRequest({ type: 'url_verification', challenge: 'ch-42', token: 'v-token' });
    const result = parseFeishuCallback({ ...request, headers: {} }, encrypted, options);
    expect(JSON.parse(result.reply.body)).toEqual({ challenge: 'ch-42' });
    expect(result.events).toEqual([]);
  });

  it('acknowledges other event types and applies nothing', () => {
    const result = parseFeishuCallback(signedRequest(v1Event({ event: { type: 'leave_approval', instance_code: 'X' } })), encrypted, options);
    expect(result).toMatchObject({ events: [], reply: { status: 200 } });
  });

  it.each([
    ['a tampered body', () => signedRequest(v1Event(), { tamper: true }), 401, /Signature does not match/],
    ['another encrypt key', () => signedRequest(v1Event(), { key: 'forged-key' }), 401, /decrypt/],
    ['a stale timestamp', () => signedRequest(v1Event(), { timestamp: String(now.getTime() / 1000 - 301) }), 401, /stale/],
    ['a wrong verification token', () => signedRequest(v1Event({ token: 'guess' })), 401, /verification token/],
    ['a missing signature', () => ({ ...signedRequest(v1Event()), headers: {} }), 401, /missing/],
    ['a plain body', () => ({ method: 'POST', headers: {}, query: {}, rawBody: Buffer.from(JSON.stringify(v1Event())) }), 400, /encrypted body/],
    ['a body that is not JSON', () => ({ method: 'POST', headers: {}, query: {}, rawBody: Buffer.from('<xml/>') }), 400, /not JSON/],
  ])('rejects %s', (_, request, status, message) => {
    const error = callbackRejection(() => parseFeishuCallback(request(), encrypted, options));
    expect(error.status).toBe(status);
    expect(error.message).toMatch(message);
  });

  it('checks the token and the event time of plain callbacks (no Encrypt Key)', () => {
    const request = (payload: unknown) => ({ method: 'POST', headers: {}, query: {}, rawBody: Buffer.from(JSON.stringify(payload)) });
    expect(parseFeishuCallback(request(v1Event()), plain, options).events).toHaveLength(1);
    expect(callbackRejection(() => parseFeishuCallback(request(v1Event({ token: 'x' })), plain, options)).status).toBe(401);
    expect(callbackRejection(() => parseFeishuCallback(request(v1Event({ ts: '1000' })), plain, options)).message).toMatch(/stale/);
  });
});
