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
  /** subscribe: this app already subscribed to the approval_code (HTTP 400). */
  subscriptionExisted: 1390007,
  /**
   * Instance create: the uuid already created an instance (HTTP 400). Feishu does not hand back
   * that instance: the caller must find it (an instance read accepts the uuid in place of the code).
   */
  uuidConflict: 60012,
  /** Contact API: the user id does not name a user (HTTP 400). */
  userIdInvalid: 41012,
} as const;

/** A refusal the open API reports in its `{code, msg}` envelope. */
export class FeishuApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly httpStatus = 400,
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
