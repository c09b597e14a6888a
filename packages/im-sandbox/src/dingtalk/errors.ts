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
  /**
   * New API: the app lacks the permission ("权限点") the API needs (HTTP 403); the answer's
   * accessdenieddetail.requiredScopes names it, to be granted under the app's 权限管理.
   */
  accessTokenPermissionDenied:
    'Forbidden.AccessDenied.AccessTokenPermissionDenied',
  /** Form create/update: the form's components break a rule; the message says which (HTTP 400). */
  formSchema: 'formschema.error',
  /** Form create/update: another form of the corp has this name (HTTP 400). */
  formName: 'formName.error',
  /** Form update: no form has that processCode (HTTP 400). */
  processCode: 'processcode.error',
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
    /** More fields of the answer, beside code, message and requestid. */
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DingtalkApiError';
  }
}

export const invalidParameter = (message: string) =>
  new DingtalkApiError(400, DingtalkCode.invalidParameter, message);

/** The API needs a permission the app was not granted. */
export const permissionDenied = (scope: string) =>
  new DingtalkApiError(
    403,
    DingtalkCode.accessTokenPermissionDenied,
    '没有调用该接口的权限',
    { accessdenieddetail: { requiredScopes: [scope] } },
  );
