import type { LoggerService } from '@backstage/backend-plugin-api';
import type { DingtalkIntegration } from '@im-approval/plugin-im-approval-common';
import {
  ImApiError,
  type ImErrorKind,
} from '@im-approval/plugin-im-approval-node';
import { z } from 'zod';
import { AccessToken } from '../api/AccessToken';
import { callWithToken, requestErrcodeJson } from '../api/errcodeApi';
import { ImApiErrors } from '../api/ImApiErrors';
import { RateBudget, type RateLimit } from '../api/RateBudget';
import { apiUrl, requestJson, type ApiCall } from '../api/requestJson';

/** New-API error codes (HTTP 4xx `{code, message}`) that mean the access token is no longer valid. */
const INVALID_TOKEN =
  /^(InvalidAuthentication|InvalidAccessToken)|TokenExpired/i;
/** The token endpoint's refusals of the AppKey or AppSecret. */
const INVALID_CREDENTIALS =
  /^invalid(ClientIdOrSecret|ClientId|ClientSecret|AppKey|AppSecret)$/i;
/** DingTalk's own failures, whatever the status: "InternalError", "ServiceUnavailable", "system busy". */
const BUSY =
  /^(InternalError|ServiceUnavailable|SystemBusy|SystemError)|busy|timeout/i;

/** Legacy-API `errcode`s meaning the access token is invalid or expired: fetched again once. */
const LEGACY_INVALID_TOKEN = new Set([40001, 40014, 42001]);

/**
 * What the legacy API's `errcode`s mean (im-protocols.md 2.1, DingTalk's global codes): -1 is
 * "system busy, try again" — a transient failure, not a rate limit. Any other code is DingTalk
 * refusing the request's content.
 */
const DINGTALK_LEGACY_ERROR_KINDS: Readonly<Record<number, ImErrorKind>> = {
  [-1]: 'unavailable',
  // Calls from this server or corp temporarily blocked for calling too often.
  90002: 'rate_limited',
  90005: 'rate_limited',
  90006: 'rate_limited',
  90018: 'rate_limited',
  // No permission for the API, or the server's IP is not allowed; 88 is an authorisation failure.
  60011: 'permission',
  60020: 'permission',
  88: 'permission',
  90001: 'permission',
  // Nobody with that mobile or user id.
  60121: 'not_found',
  33012: 'not_found',
};

function dingtalkLegacyErrorKind(errcode: number): ImErrorKind {
  return DINGTALK_LEGACY_ERROR_KINDS[errcode] ?? 'invalid_request';
}

/** What a new-API answer `{code, message}` with this status means; `tokenCall` for the token endpoint's. */
function dingtalkErrorKind(
  status: number,
  code: string,
  tokenCall = false,
): ImErrorKind {
  if (status >= 500 || BUSY.test(code)) return 'unavailable';
  if (status === 429 || /throttl|limit/i.test(code)) return 'rate_limited';
  if (tokenCall) {
    if (INVALID_CREDENTIALS.test(code) || status === 401) return 'credentials';
  } else if (status === 401 || INVALID_TOKEN.test(code)) {
    // Refused even after a fresh token: DingTalk's fault, since it just accepted the app's credentials.
    return 'unavailable';
  }
  if (status === 403 || /forbidden|denied|permission/i.test(code))
    return 'permission';
  if (status === 404 || /notfound|not\.?exist/i.test(code)) return 'not_found';
  return 'invalid_request';
}

const errorSchema = z.looseObject({
  code: z.string().optional(),
  message: z.string().optional(),
  /** On HTTP 403 Forbidden.AccessDenied.AccessTokenPermissionDenied: the permissions the API needs. */
  accessdenieddetail: z
    .looseObject({ requiredScopes: z.array(z.string()).optional() })
    .optional(),
});

/** Where an administrator grants an app's permissions. */
const GRANT_PERMISSIONS =
  'in the DingTalk developer console (open-dev.dingtalk.com) → the app → Permissions (权限管理)';
const tokenSchema = z.object({
  accessToken: z.string().min(1),
  expireIn: z.number().positive(),
});

/** DingTalk allows an app 20 calls a second to each API (Forbidden.AccessDenied.QpsLimitForAppkeyAndApi beyond). */
export function dingtalkRateLimits(call: ApiCall): RateLimit[] {
  return [{ name: `${call.method} ${call.path}`, count: 20, windowMs: 1000 }];
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
  private readonly budget: RateBudget;

  constructor(
    private readonly integration: DingtalkIntegration,
    private readonly logger: LoggerService,
    keepToRateLimits = true,
  ) {
    this.budget = new RateBudget('DingTalk', dingtalkRateLimits, {
      enabled: keepToRateLimits,
    });
    this.token = new AccessToken(() => this.fetchToken());
    this.errors = new ImApiErrors('DingTalk', `app ${integration.appKey}`, {
      credentials: 'check the AppKey (Client ID) and AppSecret (Client Secret)',
      permission: `grant the permission to the app ${GRANT_PERMISSIONS} (Workflow.* for approvals, qyapi_get_member_by_mobile for users)`,
      notFound:
        "check the id, and that the person is inside the app's contact scope",
    });
  }

  /** A call to the new API; answers the body parsed with `schema`. */
  async call<T extends z.ZodType>(
    call: ApiCall,
    schema: T,
  ): Promise<z.output<T>> {
    const attempt = (token: string) =>
      this.budget.run(call, () =>
        requestJson({
          im: 'DingTalk',
          operation: call.operation,
          method: call.method,
          url: apiUrl(this.integration.baseUrl, call.path, call.query),
          headers: { 'x-acs-dingtalk-access-token': token },
          body: call.body,
        }),
      );
    const response = await this.token.use(attempt, answer =>
      this.tokenRefused(answer.status, answer.json),
    );
    if (this.tokenRefused(response.status, response.json)) {
      const error = errorSchema.safeParse(response.json).data;
      throw this.errors.tokenRefusedAgain(
        call.operation,
        error?.code ?? `HTTP ${response.status}`,
        error?.message ?? '',
      );
    }
    if (response.status >= 300)
      throw this.refusal(call.operation, response.status, response.json);
    const body = schema.safeParse(response.json);
    if (!body.success)
      throw this.errors.unexpectedShape(call.operation, body.error.issues[0]);
    return body.data;
  }

  /** A call to the legacy API; answers the body (errcode 0) parsed with `schema`. */
  async callLegacy<T extends z.ZodType>(
    call: ApiCall,
    schema: T,
  ): Promise<z.output<T>> {
    return callWithToken({
      token: this.token,
      send: token =>
        this.budget.run(call, () =>
          requestErrcodeJson(
            {
              im: 'DingTalk',
              operation: call.operation,
              method: call.method,
              url: apiUrl(this.integration.legacyBaseUrl, call.path, {
                ...call.query,
                access_token: token,
              }),
              body: call.body,
            },
            this.errors,
          ),
        ),
      invalidToken: LEGACY_INVALID_TOKEN,
      operation: call.operation,
      schema,
      errors: this.errors,
      kindOf: dingtalkLegacyErrorKind,
    });
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

  /** The error a new-API answer `{code, message}` with a 3xx or 4xx status means. */
  private refusal(
    operation: string,
    status: number,
    json: unknown,
    tokenCall = false,
  ) {
    const error = errorSchema.safeParse(json).data;
    const code = error?.code ?? `HTTP ${status}`;
    const scopes = error?.accessdenieddetail?.requiredScopes ?? [];
    if (scopes.length > 0)
      return new ImApiError(
        'permission',
        `The DingTalk app ${this.integration.appKey} may not ${operation}: it lacks the permission ${scopes.join(', ')}; ` +
          `grant it ${GRANT_PERMISSIONS} (code ${code}: ${error?.message ?? ''})`,
        code,
      );
    return this.errors.of(
      dingtalkErrorKind(status, error?.code ?? '', tokenCall),
      operation,
      code,
      error?.message ?? '',
    );
  }

  private async fetchToken() {
    const operation = 'get an access token';
    const { status, json } = await requestJson({
      im: 'DingTalk',
      operation,
      method: 'POST',
      url: apiUrl(this.integration.baseUrl, '/v1.0/oauth2/accessToken'),
      body: {
        appKey: this.integration.appKey,
        appSecret: this.integration.appSecret,
      },
    });
    // Only DingTalk's refusals of the AppKey or AppSecret say so; an outage (5xx, answered by
    // requestJson) or a busy or throttled token endpoint is tried again later.
    if (status >= 300) throw this.refusal(operation, status, json, true);
    const token = tokenSchema.safeParse(json);
    if (!token.success)
      throw this.errors.unexpectedShape(operation, token.error.issues[0]);
    this.logger.debug(
      `Fetched a DingTalk access token for app ${this.integration.appKey}`,
    );
    return {
      value: token.data.accessToken,
      expiresInSeconds: token.data.expireIn,
    };
  }
}
