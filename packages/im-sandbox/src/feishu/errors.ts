// Error codes as the real open platform answers them (its API reference pages and observed
// responses). A client written against the sandbox must meet the same codes in production.
export const FeishuCode = {
  /** Token endpoint: app_id unknown or malformed (HTTP 200). */
  invalidParam: 10003,
  /** Token endpoint: app_secret wrong for a known app_id (HTTP 200). */
  appSecretInvalid: 10014,
  /** No `Authorization: Bearer …` header at all (HTTP 400). */
  missingAccessToken: 99991661,
  /** Unknown or expired tenant_access_token (HTTP 400): clients drop their cache and refetch. */
  invalidAccessToken: 99991663,
  /** Over an API's frequency limit for the app (HTTP 400): back off and retry. */
  frequencyLimit: 99991400,
  /** Generic request-shape failure outside the approval API (HTTP 400). */
  fieldValidationFailed: 99992402,
  /** Approval API: any invalid parameter; msg says which (HTTP 400). */
  approvalParamInvalid: 1390001,
  approvalNotFound: 1390002,
  instanceNotFound: 1390003,
  /** Approval API: a user_id or open_id that names nobody (HTTP 400). */
  userNotFound: 1390004,
  /** Approval task API: no such task on the instance (HTTP 400). */
  taskNotFound: 1390010,
  /** subscribe: this app already subscribed to the approval_code (HTTP 400). */
  subscriptionExisted: 1390007,
  /**
   * Instance create: the uuid already created an instance (HTTP 400). Feishu does not hand back
   * that instance: the caller must find it (an instance read accepts the uuid in place of the code).
   */
  uuidConflict: 60012,
  /** Contact API: the user id does not name a user (HTTP 400). */
  userIdInvalid: 41012,
  /**
   * The app lacks every scope the API accepts (HTTP 400); msg and error.permission_violations name
   * them. An app's scopes are granted in the developer console and take effect once a version is
   * published.
   */
  scopeMissing: 99991672,
} as const;

/** A refusal the open API reports in its `{code, msg}` envelope. */
export class FeishuApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly httpStatus = 400,
    /** More of the envelope's `error` object than its log id. */
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'FeishuApiError';
  }
}

export const approvalParamInvalid = (detail: string) =>
  new FeishuApiError(
    FeishuCode.approvalParamInvalid,
    `param is invalid: ${detail}`,
  );

/** Feishu's answer to a call whose app has none of `scopes` (any one of them would do). */
export function scopeMissing(appId: string, scopes: string[]) {
  const list = `[${scopes.join(', ')}]`;
  const grant = `https://open.feishu.cn/app/${appId}/auth?q=${scopes.join(',')}&op_from=openapi&token_type=tenant`;
  return new FeishuApiError(
    FeishuCode.scopeMissing,
    `Access denied. One of the following scopes is required: ${list}.应用未开通所需的应用身份权限：${list}，点击链接申请并开通任一权限即可：${grant}`,
    400,
    {
      permission_violations: scopes.map(subject => ({
        type: 'action_scope_required',
        subject,
      })),
    },
  );
}
