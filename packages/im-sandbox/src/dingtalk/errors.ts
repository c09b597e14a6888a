// DingTalk's error answers. The new API (api.dingtalk.com) answers HTTP 4xx with
// {code, message, requestid}; the old API (oapi.dingtalk.com) answers HTTP 200 with
// {errcode, errmsg, request_id}. Codes a client is expected to branch on are named here.

export const DingtalkCode = {
  /** New API: missing, unknown or expired x-acs-dingtalk-access-token (HTTP 401). */
  invalidAuthentication: 'InvalidAuthentication',
  /** New API token call: wrong appKey/appSecret (HTTP 400). */
  invalidClientIdOrSecret: 'invalidClientIdOrSecret',
  /**
   * New API flow control: this app called this API more often a second than its edition allows
   * (HTTP 403; the old API's errcode 90018). `…QpsLimitForApi` is DingTalk's global limit over all
   * its customers, which the sandbox has no need to model.
   */
  qpsLimitForAppkeyAndApi: 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi',
  /** New API: a parameter is wrong; the message says which (HTTP 400). */
  invalidParameter: 'InvalidParameter',
  /** Old API: unknown appkey or wrong appsecret. */
  oapiInvalidCredentials: 40089,
  /** Old API: missing, unknown or expired access_token. */
  oapiInvalidToken: 40014,
  /** Old API getbymobile: nobody has that mobile (in the app's visible range). */
  oapiUserNotFound: 60121,
} as const;

export class DingtalkApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'DingtalkApiError';
  }
}

export const invalidParameter = (message: string) =>
  new DingtalkApiError(400, DingtalkCode.invalidParameter, message);
