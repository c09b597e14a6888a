import type { LoggerService } from '@backstage/backend-plugin-api';
import type { WecomIntegration } from '@im-approval/plugin-im-approval-common';
import type { ImErrorKind } from '@im-approval/plugin-im-approval-node';
import { z } from 'zod';
import { AccessToken } from '../api/AccessToken';
import {
  callWithToken,
  errcodeResult,
  requestErrcodeJson,
} from '../api/errcodeApi';
import { ImApiErrors } from '../api/ImApiErrors';
import { RateBudget, type RateLimit } from '../api/RateBudget';
import { apiUrl, type ApiCall } from '../api/requestJson';

/** `errcode`s meaning the access token is invalid, expired or missing: fetch a new one and retry once. */
const INVALID_TOKEN_CODES = new Set([40014, 42001, 41001]);

/**
 * What WeCom's `errcode`s mean (im-protocols.md 3.1, 3.8, and WeCom's global error codes). -1 is
 * "system busy, try again later": a transient failure, not a rate limit (a rate limit ends a
 * reconciler pass). Only gettoken's refusals of the Corp ID or Secret are about credentials. Any
 * other code is WeCom refusing the request's content.
 */
const WECOM_ERROR_KINDS: Readonly<Record<number, ImErrorKind>> = {
  [-1]: 'unavailable',
  // gettoken: wrong Secret, unknown Corp ID, invalid secret, missing Corp ID, missing Secret.
  40001: 'credentials',
  40013: 'credentials',
  40091: 'credentials',
  41002: 'credentials',
  41004: 'credentials',
  // Over the frequency limit (OA APIs: 600 a minute), too many concurrent calls, calling too often.
  45009: 'rate_limited',
  45033: 'rate_limited',
  45011: 'rate_limited',
  // No approval permission, no API permission, no contact permission, untrusted IP.
  301055: 'permission',
  48002: 'permission',
  60011: 'permission',
  60020: 'permission',
  301002: 'permission',
  // Nobody with that email, mobile or userid; unknown approval data.
  46004: 'not_found',
  60111: 'not_found',
  301004: 'not_found',
  301024: 'not_found',
};

function wecomErrorKind(errcode: number): ImErrorKind {
  return WECOM_ERROR_KINDS[errcode] ?? 'invalid_request';
}

const tokenSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().positive(),
});

/** What a person should check for the errcodes WeCom's approval APIs answer most. */
const ADVICE: Record<number, string> = {
  301025:
    "check the template's control ids, and that the initiator and approvers are inside the app's visible range",
  301055:
    'the app must be allowed to call the Approval API: in the WeCom admin console, open the Approval app → API and add the app to "apps that may call the API"',
  60020: "add the backend's egress IP to the app's trusted IPs",
  45009: 'the OA APIs allow 600 calls a minute',
};

/** im-protocols.md 3.8: the OA APIs allow an app 600 calls a minute between them (45009 beyond). */
export function wecomRateLimits(call: ApiCall): RateLimit[] {
  if (call.path.startsWith('/cgi-bin/oa/'))
    return [{ name: 'oa', count: 600, windowMs: 60_000 }];
  // WeCom drops an app's messages to a member past 30 a minute without an error: kept to here,
  // where a message that cannot wait is refused as rate-limited instead of lost.
  if (call.path === '/cgi-bin/message/send') {
    const touser = (call.body as { touser?: string } | undefined)?.touser;
    return (touser ?? '')
      .split('|')
      .filter(Boolean)
      .map(user => ({
        name: `message.send/to ${user}`,
        count: 30,
        windowMs: 60_000,
      }));
  }
  return [];
}

/**
 * WeCom's API for one self-built app (an integration is one corp **and** app, so two apps of a
 * corp never share a token): `{errcode, errmsg}` answers, the token cached and refetched once
 * when WeCom refuses it.
 */
export class WecomApi {
  private readonly token: AccessToken;
  private readonly errors: ImApiErrors;
  private readonly budget: RateBudget;

  constructor(
    private readonly integration: WecomIntegration,
    private readonly logger: LoggerService,
    keepToRateLimits = true,
  ) {
    this.budget = new RateBudget('WeCom', wecomRateLimits, {
      enabled: keepToRateLimits,
    });
    this.token = new AccessToken(() => this.fetchToken());
    this.errors = new ImApiErrors(
      'WeCom',
      `app ${integration.agentId} of corp ${integration.corpId}`,
      {
        credentials: 'check the Corp ID and the app Secret',
        permission: 'grant the app access in the WeCom admin console',
        notFound:
          "check the id, and that the person is inside the app's visible range",
      },
    );
  }

  async call<T extends z.ZodType>(
    call: ApiCall,
    schema: T,
  ): Promise<z.output<T>> {
    return callWithToken({
      token: this.token,
      send: token =>
        this.budget.run(call, () =>
          this.send(call, { ...call.query, access_token: token }),
        ),
      invalidToken: INVALID_TOKEN_CODES,
      operation: call.operation,
      schema,
      errors: this.errors,
      kindOf: wecomErrorKind,
      advice: ADVICE,
    });
  }

  /** Fetches a fresh token; throws a `credentials` error when the Corp ID or Secret are refused. */
  verifyCredentials(): Promise<void> {
    return this.token.refresh();
  }

  private async fetchToken() {
    const operation = 'get an access token';
    const answer = await this.send(
      { operation, method: 'GET', path: '/cgi-bin/gettoken' },
      { corpid: this.integration.corpId, corpsecret: this.integration.secret },
    );
    // Only WeCom's refusals of the Corp ID or Secret say so; system busy or an outage is tried again later.
    const token = errcodeResult(
      answer,
      tokenSchema,
      operation,
      this.errors,
      wecomErrorKind,
      ADVICE,
    );
    this.logger.debug(
      `Fetched a WeCom access token for app ${this.integration.agentId} of corp ${this.integration.corpId}`,
    );
    return { value: token.access_token, expiresInSeconds: token.expires_in };
  }

  private send(call: ApiCall, query: Record<string, string>) {
    return requestErrcodeJson(
      {
        im: 'WeCom',
        operation: call.operation,
        method: call.method,
        url: apiUrl(this.integration.baseUrl, call.path, query),
        body: call.body,
      },
      this.errors,
    );
  }
}
