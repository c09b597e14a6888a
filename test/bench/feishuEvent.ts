// A Feishu approval callback as the open platform (and the sandbox's event delivery) sends it:
// a v1 `approval_instance` event, encrypted under the app's Encrypt Key, signed over the exact body
// with X-Lark-Request-Timestamp, X-Lark-Request-Nonce and X-Lark-Signature.
import {
  feishuEncrypt,
  feishuSignatureHeaders,
} from '@im-approval/plugin-im-approval-node';
import { randomBytes } from 'node:crypto';
import { FEISHU_APP } from '../src/__testUtils__/ims';

/** The tenant key the sandbox puts in every event. */
const TENANT_KEY = '2ed263bf32cf1651';

export interface SignedCallback {
  headers: Record<string, string>;
  body: string;
}

export function feishuApprovalCallback(
  instanceCode: string,
  options: {
    status?: string;
    approvalCode?: string;
    app?: { appId: string; verificationToken: string; encryptKey: string };
  } = {},
): SignedCallback {
  const app = options.app ?? FEISHU_APP;
  const now = Date.now();
  const plaintext = JSON.stringify({
    uuid: randomBytes(16).toString('hex'),
    token: app.verificationToken,
    ts: (now / 1000).toFixed(6),
    type: 'event_callback',
    event: {
      app_id: app.appId,
      tenant_key: TENANT_KEY,
      approval_code: options.approvalCode ?? 'DEPLOY',
      instance_code: instanceCode,
      status: options.status ?? 'APPROVED',
      operate_time: String(now),
      type: 'approval_instance',
      instance_operate_time: String(now),
    },
  });
  const body = JSON.stringify({
    encrypt: feishuEncrypt(app.encryptKey, plaintext),
  });
  return {
    body,
    headers: {
      'content-type': 'application/json',
      ...feishuSignatureHeaders(app.encryptKey, body, now),
    },
  };
}
