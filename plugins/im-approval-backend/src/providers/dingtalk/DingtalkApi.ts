import type { LoggerService } from '@backstage/backend-plugin-api';
import type { DingtalkIntegration } from '@im-approval/plugin-im-approval-common';
import type { ImErrorKind } from '@im-approval/plugin-im-approval-node';
import { z } from 'zod';
import { AccessToken } from '../api/AccessToken';
import { errcodeResult, requestErrcodeJson } from '../api/errcodeApi';
import { ImApiErrors } from '../api/ImApiErrors';
import { apiUrl, requestJson, type ApiCall } from '../api/requestJson';

/** New-API error codes (HTTP 4xx `{code, message}`) that mean the access token is no longer valid. */
const INVALID_TOKEN = /^(InvalidAuthentication|InvalidAccessToken)|TokenExpired/i;
/** Legacy-API `errcode`s. */
const LEGACY_INVALID_TOKEN = new Set([40001, 40014, 42001]);
const LEGACY_RATE_LIMITED = new Set([90002, 90005, 90006, 90018]);
const LEGACY_NOT_FOUND = new Set([60121, 33012]);
const LEGACY_PERMISSION = new Set([60011, 60020, 88, 90001]);

const errorSchema = z.looseObject({ code: z.string().optional(), message: z.string().optional() });
const tokenSchema = z.object({ accessToken: z.string().min(1), expireIn: z.number().positive() });

function newApiKind(status: number, code: string): ImErrorKind {
  if (status === 429 || /throttl|limit/i.test(code)) return 'rate_limited';
  if (status >= 500) return 'unavailable';
  if (status === 401 || INVALID_TOKEN.test(code)) return 'credentials';
  if (status === 403 || /forbidden|denied|permission/i.test(code)) return 'permission';
  if (status === 404 || /notfound|not\.?exist/i.test(code)) return 'not_found';
  return 'invalid_request';
}

function legacyKind(errcode: number): ImErrorKind {
  if (LEGACY_RATE_LIMITED.has(errcode)) return 'rate_limited';
  if (LEGACY_INVALID_TOKEN.has(errcode)) return 'credentials';
  if (LEGACY_PERMISSION.has(errcode)) return 'permission';
  if (LEGACY_NOT_FOUND.has(errcode)) return 'not_found';
  if (errcode === -1) return 'unavailable';
  return 'invalid_request';
}

/**
 * DingTalk's open APIs for one app: the new API (`api.dingtalk.com`, token in
 * `x-acs-dingtalk-access-token`, HTTP 4xx `{code, message}` errors) and the legacy one
 * (`oapi.dingtalk.com`, token in the `access_token` query, `{errcode, errmsg}`), both with the
 * one app token fetched from the new API, cached, and refetched once when refused.
 */
export class DingtalkApi {
  private readonly token: AccessToken;
  private readonly errors: ImApiErrors;

  constructor(
    private readonly integration: DingtalkIntegration,
    private readonly logger: LoggerService,
  ) {
    this.token = new AccessToken(() => this.fetchToken());
    this.errors = new ImApiErrors('DingTalk', `app ${integration.appKey}`, {
      credentials: 'check the AppKey (Client ID) and AppSecret (Client Secret)',
      permission: 'grant the permission to the app in the DingTalk developer console (Workflow.* for approvals, qyapi_get_member_by_mobile for users)',
      notFound: "check the id, and that the person is inside the app's contact scope",
    });
  }

  /** A call to the new API; answers the body parsed with `schema`. */
  async call<T extends z.ZodType>(call: ApiCall, schema: T): Promise<z.output<T>> {
    const attempt = async (token: string) =>
      requestJson({
        im: 'DingTalk',
        operation: call.operation,
        method: call.method,
        url: apiUrl(this.integration.baseUrl, call.path, call.query),
        headers: { 'x-acs-dingtalk-access-token': token },
        body: call.body,
      });
    const response = await this.token.use(attempt, answer => this.tokenRefused(answer.status, answer.json));
    if (response.status >= 300) throw this.refusal(call.operation, response.status, response.json, kind => kind);
    const body = schema.safeParse(response.json);
    if (!body.success) throw this.errors.unexpectedShape(call.operation, body.error.issues[0]);
    return body.data;
  }

  /** A call to the legacy API; answers the body (errcode 0) parsed with `schema`. */
  async callLegacy<T extends z.ZodType>(call: ApiCall, schema: T): Promise<z.output<T>> {
    const answer = await this.token.use(
      token =>
        requestErrcodeJson(
          {
            im: 'DingTalk',
            operation: call.operation,
            method: call.method,
            url: apiUrl(this.integration.legacyBaseUrl, call.path, { ...call.query, access_token: token }),
            body: call.body,
          },
          this.errors,
        ),
      ({ errcode }) => LEGACY_INVALID_TOKEN.has(errcode),
    );
    return errcodeResult(answer, schema, call.operation, this.errors, legacyKind);
  }

  /** Fetches a fresh token; throws a `credentials` error when the AppKey/AppSecret are refused. */
  verifyCredentials(): Promise<void> {
    return this.token.refresh();
  }

  private tokenRefused(status: number, json: unknown): boolean {
    if (status < 400 || status >= 500) return false;
    const code = errorSchema.safeParse(json).data?.code ?? '';
    return status === 401 || INVALID_TOKEN.test(code);
  }

  /** The error a new-API answer `{code, message}` with a 3xx-5xx status means; `kindFor` may narrow its kind. */
  private refusal(operation: string, status: number, json: unknown, kindFor: (kind: ImErrorKind) => ImErrorKind) {
    const error = errorSchema.safeParse(json).data;
    const code = error?.code ?? `HTTP ${status}`;
    return this.errors.of(kindFor(newApiKind(status, code)), operation, code, error?.message ?? '');
  }

  private async fetchToken() {
    const operation = 'get an access token';
    const { status, json } = await requestJson({
      im: 'DingTalk',
      operation,
      method: 'POST',
      url: apiUrl(this.integration.baseUrl, '/v1.0/oauth2/accessToken'),
      body: { appKey: this.integration.appKey, appSecret: this.integration.appSecret },
    });
    if (status >= 300) {
      // Any refusal of the token that is not transient is about the AppKey or AppSecret.
      throw this.refusal(operation, status, json, kind => (kind === 'rate_limited' || kind === 'unavailable' ? kind : 'credentials'));
    }
    const token = tokenSchema.safeParse(json);
    if (!token.success) throw this.errors.unexpectedShape(operation, token.error.issues[0]);
    this.logger.debug(`Fetched a DingTalk access token for app ${this.integration.appKey}`);
    return { value: token.data.accessToken, expiresInSeconds: token.data.expireIn };
  }
}
