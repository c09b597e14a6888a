import { randomBytes } from 'node:crypto';

// WeCom's error answers: always HTTP 200 with {errcode, errmsg}, the errmsg ending in a hint and
// a link to WeCom's error-code lookup. Codes a client is expected to branch on are named here.

export const WecomCode = {
  /** gettoken: wrong corpsecret for the corp. */
  invalidSecret: 40001,
  /** gettoken: unknown corpid. */
  invalidCorpId: 40013,
  /** An access_token that was never issued. */
  invalidToken: 40014,
  /** A parameter has the wrong value (unknown template_id or sp_no). */
  invalidParameter: 40058,
  /** No access_token on the URL. */
  missingToken: 41001,
  missingCorpId: 41002,
  missingSecret: 41004,
  /** An access_token that has expired. */
  expiredToken: 42001,
  /** Over the frequency limit (OA APIs: 600 a minute). */
  rateLimited: 45009,
  /** Nobody with that email or mobile (in the app's visible range). */
  userNotFound: 46004,
  /** The body is not JSON. */
  badJson: 47001,
  /** user/get: no member with that userid. */
  userIdNotFound: 60111,
  /** applyevent: bad parameters, control ids, or a creator/approver outside the app's visible range. */
  applyInvalid: 301025,
  /**
   * The app is not in the Approval app's "apps that may call the API" list, or updates a template
   * it did not create.
   */
  noApprovalAuth: 301055,
} as const;

export class WecomApiError extends Error {
  constructor(
    readonly errcode: number,
    message: string,
  ) {
    super(message);
    this.name = 'WecomApiError';
  }
}

export const applyInvalid = (detail: string) =>
  new WecomApiError(WecomCode.applyInvalid, `invalid apply data: ${detail}`);

/** The envelope WeCom answers errors with. */
export function errorBody(errcode: number, message: string) {
  const hint = randomBytes(8).toString('hex');
  return {
    errcode,
    errmsg: `${message}, hint: [${hint}], more info at https://open.work.weixin.qq.com/devtool/query?e=${errcode}`,
  };
}
