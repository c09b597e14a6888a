import type { LoggerService } from '@backstage/backend-plugin-api';
import type { FeishuIntegration } from '@im-approval/plugin-im-approval-common';
import { ImApiError, type ImErrorKind } from '@im-approval/plugin-im-approval-node';
import { z } from 'zod';
import { AccessToken } from '../api/AccessToken';
import { ImApiErrors } from '../api/ImApiErrors';
import { apiUrl, requestJson, type ApiCall } from '../api/requestJson';

/** Codes Feishu answers when a tenant token is missing, invalid or expired. */
const INVALID_TOKEN_CODES = new Set([99991661, 99991663, 99991664, 99991671]);
const RATE_LIMITED = 99991400;
const PERMISSION_CODES = new Set([99991672, 99991679, 1390008]);
const NOT_FOUND_CODES = new Set([1390002, 1390003, 60001]);
/** The call came from an address outside the app's IP allowlist. */
const IP_DENIED = 99991401;

/** Refusals whose cause and remedy are known, in the words of the console a person will open. */
const KNOWN_REFUSALS: Record<number, { kind: ImErrorKind; advice: (appId: string) => string }> = {
  10003: {
    kind: 'credentials',
    advice: appId => `Unknown app id ${appId}: copy the App ID of the enterprise self-built app from the open platform console`,
  },
  10014: {
    kind: 'credentials',
    advice: appId =>
      `Invalid app secret for app ${appId}: copy the App Secret again from the open platform console (resetting it there invalidates the old one)`,
  },
  10013: {
    kind: 'permission',
    advice: appId =>
      `App ${appId} is not published or is disabled: create a version and publish it in the developer console (an admin may have to approve the release)`,
  },
  [IP_DENIED]: {
    kind: 'permission',
    advice: () => "this server's IP address is not allowed: add the backend's public egress IP to the app's IP allowlist (Security settings)",
  },
};

const envelopeSchema = z.looseObject({ code: z.number(), msg: z.string().optional().default(''), data: z.unknown().optional() });
const tokenSchema = z.object({ tenant_access_token: z.string().min(1), expire: z.number().positive() });

function kindOf(code: number): ImErrorKind {
  if (code === RATE_LIMITED) return 'rate_limited';
  if (PERMISSION_CODES.has(code)) return 'permission';
  if (NOT_FOUND_CODES.has(code)) return 'not_found';
  if (INVALID_TOKEN_CODES.has(code)) return 'credentials';
  return 'invalid_request';
}

/**
 * The Feishu/Lark open API for one app: `{code, msg, data}` envelopes, a tenant token cached per
 * app and refreshed once on the invalid-token codes, and errors a person can act on.
 */
export class FeishuApi {
  private readonly token: AccessToken;
  private readonly errors: ImApiErrors;

  constructor(
    private readonly integration: FeishuIntegration,
    private readonly logger: LoggerService,
  ) {
    this.token = new AccessToken(() => this.fetchToken());
    this.errors = new ImApiErrors('Feishu', `app ${integration.appId}`, {
      credentials: 'check the app id and secret',
      permission: 'grant the permission and publish a new app version',
    });
  }

  async call<T extends z.ZodType>(call: ApiCall, dataSchema: T): Promise<z.output<T>> {
    const body = await this.token.use(
      token => this.send(call, token),
      answer => INVALID_TOKEN_CODES.has(answer.code),
    );
    if (body.code !== 0) throw this.refusal(call.operation, body.code, body.msg, kindOf(body.code));
    const data = dataSchema.safeParse(body.data ?? {});
    if (!data.success) throw this.errors.unexpectedShape(call.operation, data.error.issues[0]);
    return data.data;
  }

  /** Fetches a fresh token; throws a `credentials` error when the app id/secret are refused. */
  verifyCredentials(): Promise<void> {
    return this.token.refresh();
  }

  private async fetchToken() {
    const operation = 'get a tenant access token';
    const body = await this.send({
      operation,
      method: 'POST',
      path: '/open-apis/auth/v3/tenant_access_token/internal',
      body: { app_id: this.integration.appId, app_secret: this.integration.appSecret },
    });
    if (body.code !== 0) throw this.refusal(operation, body.code, body.msg, body.code === RATE_LIMITED ? 'rate_limited' : 'credentials');
    const token = tokenSchema.safeParse(body);
    if (!token.success) throw this.errors.unexpectedShape(operation, token.error.issues[0]);
    this.logger.debug(`Fetched a Feishu tenant token for app ${this.integration.appId}`);
    return { value: token.data.tenant_access_token, expiresInSeconds: token.data.expire };
  }

  private refusal(operation: string, code: number, msg: string, fallback: ImErrorKind): ImApiError {
    const known = KNOWN_REFUSALS[code];
    if (!known) return this.errors.of(fallback, operation, code, msg);
    const advice = known.advice(this.integration.appId);
    return new ImApiError(known.kind, `${code === IP_DENIED ? `Feishu refused to ${operation}: ` : ''}${advice} (code ${code}: ${msg})`, code);
  }

  private async send(call: ApiCall, token?: string) {
    const { status, json } = await requestJson({
      im: 'Feishu',
      operation: call.operation,
      method: call.method,
      url: apiUrl(this.integration.apiBaseUrl, call.path, call.query),
      headers: token ? { authorization: `Bearer ${token}` } : {},
      body: call.body,
    });
    const envelope = envelopeSchema.safeParse(json);
    if (!envelope.success) throw this.errors.of('unavailable', call.operation, undefined, `HTTP ${status} without a result code`);
    return envelope.data;
  }
}
