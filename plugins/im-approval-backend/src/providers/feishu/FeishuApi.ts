import type { LoggerService } from '@backstage/backend-plugin-api';
import type { FeishuIntegration } from '@im-approval/plugin-im-approval-common';
import { ImApiError, type ImErrorKind } from '@im-approval/plugin-im-approval-node';
import { request } from 'undici';
import { z } from 'zod';

/** Codes Feishu answers when a tenant token is missing, invalid or expired. */
const INVALID_TOKEN_CODES = new Set([99991661, 99991663, 99991664, 99991671]);
const RATE_LIMITED = 99991400;
const PERMISSION_CODES = new Set([99991672, 99991679, 1390008]);
/** The call came from an address outside the app's IP allowlist (token calls are exempt from it). */
const IP_DENIED = 99991401;
/** What the token endpoint's refusals mean, and what to do about each. */
const TOKEN_REFUSALS: Record<number, { kind: ImErrorKind; advice: (appId: string) => string }> = {
  10003: {
    kind: 'credentials',
    advice: appId => `Unknown app id ${appId}: copy the App ID of the enterprise self-built app from the open platform console`,
  },
  10014: {
    kind: 'credentials',
    advice: appId => `Invalid app secret for app ${appId}: copy the App Secret again from the open platform console (resetting it there invalidates the old one)`,
  },
  10013: {
    kind: 'permission',
    advice: appId => `App ${appId} is not published or is disabled: create a version and publish it in the developer console (an admin may have to approve the release)`,
  },
};
const NOT_FOUND_CODES = new Set([1390002, 1390003, 60001]);
/** Refresh this long before Feishu's stated expiry, as its docs advise. */
const TOKEN_REFRESH_MARGIN_MS = 3 * 60_000;
const TIMEOUT_MS = 10_000;

const envelopeSchema = z.object({ code: z.number(), msg: z.string().optional().default('') }).loose();
const tokenSchema = z.object({ tenant_access_token: z.string().min(1), expire: z.number().positive() });

export interface FeishuCall {
  /** A name for the operation in error messages, e.g. "create an approval instance". */
  operation: string;
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string>;
  body?: unknown;
}

/**
 * The Feishu/Lark open API for one app: `{code, msg, data}` envelopes, a tenant token cached per
 * app (one fetch per token lifetime, shared by concurrent calls) and refreshed once on the
 * invalid-token codes, and errors turned into `ImApiError`s a person can act on.
 */
export class FeishuApi {
  private token?: { value: string; refreshAt: number };
  private tokenRequest?: Promise<string>;

  constructor(
    private readonly integration: FeishuIntegration,
    private readonly logger: LoggerService,
  ) {}

  async call<T extends z.ZodType>(call: FeishuCall, dataSchema: T): Promise<z.output<T>> {
    let body = await this.send(call, await this.tenantToken());
    if (INVALID_TOKEN_CODES.has(body.code)) {
      this.token = undefined;
      body = await this.send(call, await this.tenantToken());
    }
    if (body.code !== 0) throw this.errorFor(call.operation, body.code, body.msg);
    const data = dataSchema.safeParse(body.data ?? {});
    if (!data.success) {
      throw new ImApiError('unavailable', `Feishu answered "${call.operation}" with an unexpected shape: ${data.error.issues[0]?.path.join('.')} ${data.error.issues[0]?.message}`);
    }
    return data.data;
  }

  /** Fetches a fresh token; throws a `credentials` error when the app id/secret are refused. */
  async verifyCredentials(): Promise<void> {
    this.token = undefined;
    await this.tenantToken();
  }

  private tenantToken(): Promise<string> {
    if (this.token && Date.now() < this.token.refreshAt) return Promise.resolve(this.token.value);
    this.tokenRequest ??= this.fetchToken().finally(() => {
      this.tokenRequest = undefined;
    });
    return this.tokenRequest;
  }

  private async fetchToken(): Promise<string> {
    const body = await this.send({
      operation: 'get a tenant access token',
      method: 'POST',
      path: '/open-apis/auth/v3/tenant_access_token/internal',
      body: { app_id: this.integration.appId, app_secret: this.integration.appSecret },
    });
    if (body.code !== 0) throw this.tokenError(body.code, body.msg);
    const token = tokenSchema.parse(body);
    this.token = { value: token.tenant_access_token, refreshAt: Date.now() + token.expire * 1000 - TOKEN_REFRESH_MARGIN_MS };
    this.logger.debug(`Fetched a Feishu tenant token for app ${this.integration.appId}`);
    return token.tenant_access_token;
  }

  private async send(call: FeishuCall, token?: string): Promise<z.output<typeof envelopeSchema> & { data?: unknown }> {
    const url = new URL(this.integration.apiBaseUrl + call.path);
    for (const [key, value] of Object.entries(call.query ?? {})) url.searchParams.set(key, value);
    let response;
    try {
      response = await request(url, {
        method: call.method,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        headersTimeout: TIMEOUT_MS,
        bodyTimeout: TIMEOUT_MS,
      });
    } catch (error) {
      throw new ImApiError('unavailable', `Could not reach Feishu at ${url.origin} to ${call.operation}: ${(error as Error).message}`);
    }
    const text = await response.body.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ImApiError('unavailable', `Feishu answered "${call.operation}" with HTTP ${response.statusCode} and no JSON body`);
    }
    const envelope = envelopeSchema.safeParse(json);
    if (!envelope.success) {
      throw new ImApiError('unavailable', `Feishu answered "${call.operation}" with HTTP ${response.statusCode} and no result code`);
    }
    return envelope.data as z.output<typeof envelopeSchema> & { data?: unknown };
  }

  private tokenError(code: number, msg: string): ImApiError {
    const refusal = TOKEN_REFUSALS[code];
    if (refusal) return new ImApiError(refusal.kind, `${refusal.advice(this.integration.appId)} (code ${code}: ${msg})`, code);
    if (code === RATE_LIMITED || code === IP_DENIED) return this.errorFor('get a tenant access token', code, msg);
    return new ImApiError(
      'credentials',
      `Invalid Feishu app credentials for app ${this.integration.appId} (code ${code}: ${msg}); check the app id and secret`,
      code,
    );
  }

  private errorFor(operation: string, code: number, msg: string): ImApiError {
    const detail = `(code ${code}: ${msg})`;
    if (code === RATE_LIMITED) {
      return new ImApiError('rate_limited', `Feishu rate limit reached while trying to ${operation} ${detail}; retrying later`, code);
    }
    if (code === IP_DENIED) {
      return new ImApiError(
        'permission',
        `Feishu refused to ${operation}: this server's IP address is not allowed ${detail}; add the backend's public egress IP to the app's IP allowlist (Security settings)`,
        code,
      );
    }
    if (PERMISSION_CODES.has(code)) {
      return new ImApiError('permission', `The Feishu app ${this.integration.appId} may not ${operation} ${detail}; grant the permission and publish a new app version`, code);
    }
    if (NOT_FOUND_CODES.has(code)) return new ImApiError('not_found', `Feishu could not ${operation}: not found ${detail}`, code);
    if (INVALID_TOKEN_CODES.has(code)) return new ImApiError('credentials', `Feishu refused the app's token ${detail}`, code);
    return new ImApiError('invalid_request', `Feishu refused to ${operation} ${detail}`, code);
  }
}
