import type { LoggerService } from '@backstage/backend-plugin-api';
import type { WecomIntegration } from '@im-approval/plugin-im-approval-common';
import type { ImErrorKind } from '@im-approval/plugin-im-approval-node';
import { z } from 'zod';
import { AccessToken } from '../api/AccessToken';
import { errcodeResult, requestErrcodeJson } from '../api/errcodeApi';
import { ImApiErrors } from '../api/ImApiErrors';
import { apiUrl, type ApiCall } from '../api/requestJson';

/** `errcode`s meaning the access token is invalid or expired: fetch a new one and retry once. */
const INVALID_TOKEN_CODES = new Set([40014, 42001, 41001]);
const CREDENTIAL_CODES = new Set([40001, 40013, 40091, 40056]);
const RATE_LIMITED_CODES = new Set([45009, 45033, 45011, -1]);
const PERMISSION_CODES = new Set([301055, 48002, 60011, 60020, 301002]);
const NOT_FOUND_CODES = new Set([46004, 60111, 301004, 301024]);

const tokenSchema = z.object({ access_token: z.string().min(1), expires_in: z.number().positive() });

function kindOf(errcode: number): ImErrorKind {
  if (RATE_LIMITED_CODES.has(errcode)) return 'rate_limited';
  if (CREDENTIAL_CODES.has(errcode) || INVALID_TOKEN_CODES.has(errcode)) return 'credentials';
  if (PERMISSION_CODES.has(errcode)) return 'permission';
  if (NOT_FOUND_CODES.has(errcode)) return 'not_found';
  return 'invalid_request';
}

/** What a person should check for the errcodes WeCom's approval APIs answer most. */
const ADVICE: Record<number, string> = {
  301025: "check the template's control ids, and that the initiator and approvers are inside the app's visible range",
  301055: "add the app to the Approval app's \"apps that may call the API\" list",
  60020: "add the backend's egress IP to the app's trusted IPs",
  45009: 'the OA APIs allow 600 calls a minute',
};

/**
 * WeCom's API for one self-built app (an integration is one corp **and** app, so two apps of a
 * corp never share a token): `{errcode, errmsg}` answers, the token cached and refetched once
 * when WeCom refuses it.
 */
export class WecomApi {
  private readonly token: AccessToken;
  private readonly errors: ImApiErrors;

  constructor(
    private readonly integration: WecomIntegration,
    private readonly logger: LoggerService,
  ) {
    this.token = new AccessToken(() => this.fetchToken());
    this.errors = new ImApiErrors('WeCom', `app ${integration.agentId} of corp ${integration.corpId}`, {
      credentials: 'check the Corp ID and the app Secret',
      permission: 'grant the app access in the WeCom admin console',
      notFound: "check the id, and that the person is inside the app's visible range",
    });
  }

  async call<T extends z.ZodType>(call: ApiCall, schema: T): Promise<z.output<T>> {
    const answer = await this.token.use(
      token => this.send(call, { ...call.query, access_token: token }),
      ({ errcode }) => INVALID_TOKEN_CODES.has(errcode),
    );
    return errcodeResult(answer, schema, call.operation, this.errors, kindOf, ADVICE);
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
    const token = errcodeResult(answer, tokenSchema, operation, this.errors, errcode =>
      RATE_LIMITED_CODES.has(errcode) ? 'rate_limited' : 'credentials',
    );
    this.logger.debug(`Fetched a WeCom access token for app ${this.integration.agentId} of corp ${this.integration.corpId}`);
    return { value: token.access_token, expiresInSeconds: token.expires_in };
  }

  private send(call: ApiCall, query: Record<string, string>) {
    return requestErrcodeJson(
      { im: 'WeCom', operation: call.operation, method: call.method, url: apiUrl(this.integration.baseUrl, call.path, query), body: call.body },
      this.errors,
    );
  }
}
