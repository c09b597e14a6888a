import type { LoggerService } from '@backstage/backend-plugin-api';
import type { FeishuIntegration } from '@im-approval/plugin-im-approval-common';
import {
  ImApiError,
  type ImErrorKind,
} from '@im-approval/plugin-im-approval-node';
import { z } from 'zod';
import { AccessToken } from '../api/AccessToken';
import { ImApiErrors } from '../api/ImApiErrors';
import { RateBudget, type RateLimit } from '../api/RateBudget';
import { apiUrl, requestJson, type ApiCall } from '../api/requestJson';

/** Codes Feishu answers when a tenant token is missing, invalid or expired: fetched again once. */
const INVALID_TOKEN_CODES = new Set([99991661, 99991663, 99991664, 99991671]);
/** The call came from an address outside the app's IP allowlist. */
const IP_DENIED = 99991401;
/** The app lacks every scope the API accepts; msg names them. */
const SCOPE_MISSING = 99991672;

/**
 * What Feishu's codes mean: its generic server codes, its token endpoint's and its approval API's
 * (im-protocols.md 1.1, 1.3, 1.9). Any other code is Feishu refusing the request's content.
 * Only the token endpoint's refusals of the app id or secret are about credentials.
 */
const FEISHU_ERROR_KINDS: Readonly<Record<number, ImErrorKind>> = {
  // The token endpoint: unknown app id (or missing parameters), wrong app secret.
  10003: 'credentials',
  10014: 'credentials',
  // The app is not published or is disabled; the caller's IP is not allowed; a scope is missing.
  10013: 'permission',
  [IP_DENIED]: 'permission',
  [SCOPE_MISSING]: 'permission',
  99991679: 'permission',
  1390008: 'permission',
  // Unknown approval definition, instance or user.
  1390002: 'not_found',
  1390003: 'not_found',
  60001: 'not_found',
  // "request trigger frequency limit" (HTTP 400 or 429): back off.
  99991400: 'rate_limited',
  // Feishu's own failures: "internal error" (generic codes) and the approval API's "try again later".
  1500: 'unavailable',
  1503: 'unavailable',
  1551: 'unavailable',
  1557: 'unavailable',
  1395001: 'unavailable',
  // Messages: the app has no bot; the person is outside the bot's availability; too many messages.
  230006: 'permission',
  230013: 'permission',
  230020: 'rate_limited',
};

function feishuErrorKind(code: number, httpStatus = 200): ImErrorKind {
  if (httpStatus === 429) return 'rate_limited';
  return FEISHU_ERROR_KINDS[code] ?? 'invalid_request';
}

interface Refused {
  appId: string;
  operation: string;
  msg: string;
  domain: 'feishu' | 'lark';
}

/** Refusals whose cause and remedy are known, in the words of the console a person will open. */
const KNOWN_REFUSALS: Record<number, (refused: Refused) => string> = {
  10003: ({ appId }) =>
    `Unknown app id ${appId}: copy the App ID of the enterprise self-built app from the open platform console`,
  10014: ({ appId }) =>
    `Invalid app secret for app ${appId}: copy the App Secret again from the open platform console (resetting it there invalidates the old one)`,
  10013: ({ appId }) =>
    `App ${appId} is not published or is disabled: create a version and publish it in the developer console (an admin may have to approve the release)`,
  230006: ({ appId }) =>
    `App ${appId} has no bot, so it cannot message approvers: enable the Bot ability in the developer console (the app → Add features → Bot), then create and publish a new app version`,
  230013: ({ appId }) =>
    `A recipient is outside app ${appId}'s availability: add them (or their department) to the app's availability range in the developer console, then publish a new app version`,
  [IP_DENIED]: ({ operation }) =>
    `Feishu refused to ${operation}: this server's IP address is not allowed: add the backend's public egress IP to the app's IP allowlist (Security settings)`,
  [SCOPE_MISSING]: ({ appId, operation, msg, domain }) => {
    const scopes = /scopes? (?:is |are )?required: \[([^\]]*)\]/.exec(msg)?.[1];
    const console = domain === 'lark' ? 'Lark' : 'Feishu';
    return (
      `App ${appId} may not ${operation}: it needs ${scopes ? `one of the scopes ${scopes}` : 'a permission it lacks'}. ` +
      `Grant it in the ${console} developer console (the app → Permissions & Scopes), then create and publish a new app version for it to take effect`
    );
  },
};

const envelopeSchema = z.looseObject({
  code: z.number(),
  msg: z.string().optional().default(''),
  data: z.unknown().optional(),
});
const tokenSchema = z.object({
  tenant_access_token: z.string().min(1),
  expire: z.number().positive(),
});

const MINUTE = 60_000;

/** im-protocols.md 1.9: instance create and subscribe 100 a minute; instance read 1000 a minute and 50 a second. */
export function feishuRateLimits(call: ApiCall): RateLimit[] {
  const approval = '/open-apis/approval/v4/';
  if (call.method === 'POST' && call.path === `${approval}instances`)
    return [{ name: 'instance.create', count: 100, windowMs: MINUTE }];
  if (call.method === 'POST' && call.path.endsWith('/subscribe'))
    return [{ name: 'subscribe', count: 100, windowMs: MINUTE }];
  if (call.method === 'POST' && call.path === '/open-apis/im/v1/messages') {
    const to = (call.body as { receive_id?: string } | undefined)?.receive_id;
    return [
      { name: 'message.create/s', count: 50, windowMs: 1000 },
      { name: 'message.create/min', count: 1000, windowMs: MINUTE },
      // And five a second to one person: a pass reminding one approver of many requests.
      ...(to
        ? [{ name: `message.create/to ${to}`, count: 5, windowMs: 1000 }]
        : []),
    ];
  }
  if (call.method === 'GET' && call.path.startsWith(`${approval}instances/`))
    return [
      { name: 'instance.get/s', count: 50, windowMs: 1000 },
      { name: 'instance.get/min', count: 1000, windowMs: MINUTE },
    ];
  return [];
}

/**
 * The Feishu/Lark open API for one app: `{code, msg, data}` envelopes, a tenant token cached per
 * app and refreshed once on the invalid-token codes, and errors a person can act on.
 */
export class FeishuApi {
  private readonly token: AccessToken;
  private readonly errors: ImApiErrors;
  private readonly budget: RateBudget;

  constructor(
    private readonly integration: FeishuIntegration,
    private readonly logger: LoggerService,
    keepToRateLimits = true,
  ) {
    this.budget = new RateBudget('Feishu', feishuRateLimits, {
      enabled: keepToRateLimits,
    });
    this.token = new AccessToken(() => this.fetchToken());
    this.errors = new ImApiErrors('Feishu', `app ${integration.appId}`, {
      credentials: 'check the app id and secret',
      permission: 'grant the permission and publish a new app version',
    });
  }

  async call<T extends z.ZodType>(
    call: ApiCall,
    dataSchema: T,
  ): Promise<z.output<T>> {
    const body = await this.token.use(
      token => this.budget.run(call, () => this.send(call, token)),
      answer => INVALID_TOKEN_CODES.has(answer.code),
    );
    if (INVALID_TOKEN_CODES.has(body.code))
      throw this.errors.tokenRefusedAgain(call.operation, body.code, body.msg);
    if (body.code !== 0) throw this.refusal(call.operation, body);
    const data = dataSchema.safeParse(body.data ?? {});
    if (!data.success)
      throw this.errors.unexpectedShape(call.operation, data.error.issues[0]);
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
      body: {
        app_id: this.integration.appId,
        app_secret: this.integration.appSecret,
      },
    });
    // Only the codes Feishu documents for a wrong app id or secret say so; an outage or a busy
    // token endpoint is tried again later.
    if (body.code !== 0) throw this.refusal(operation, body);
    const token = tokenSchema.safeParse(body);
    if (!token.success)
      throw this.errors.unexpectedShape(operation, token.error.issues[0]);
    this.logger.debug(
      `Fetched a Feishu tenant token for app ${this.integration.appId}`,
    );
    return {
      value: token.data.tenant_access_token,
      expiresInSeconds: token.data.expire,
    };
  }

  private refusal(
    operation: string,
    answer: { code: number; msg: string; status: number },
  ): ImApiError {
    const { code, msg } = answer;
    const kind = feishuErrorKind(code, answer.status);
    const advice = KNOWN_REFUSALS[code];
    if (!advice) return this.errors.of(kind, operation, code, msg);
    const { appId, domain } = this.integration;
    return new ImApiError(
      kind,
      `${advice({ appId, operation, msg, domain })} (code ${code}: ${msg})`,
      code,
    );
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
    if (!envelope.success)
      throw this.errors.of(
        'unavailable',
        call.operation,
        undefined,
        `HTTP ${status} without a result code`,
      );
    return { ...envelope.data, status };
  }
}
