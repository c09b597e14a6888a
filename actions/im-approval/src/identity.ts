import * as core from '@actions/core';
import { decodeJwt } from 'jose';
import { Backoff, sleep } from './backoff';
import { untrusted } from './untrusted';

/** Who the Action is to the backend: a bearer token, fetched again when the backend refuses it. */
export interface Identity {
  readonly kind: 'oidc' | 'token';
  token(options?: { fresh?: boolean }): Promise<string>;
}

export class IdentityError extends Error {}

/** GitHub OIDC tokens live minutes while a wait can last days, so one is fetched per use near expiry. */
const REFRESH_BEFORE_EXPIRY_SECONDS = 60;
const TOKEN_REQUEST_TRIES = 5;

/**
 * The job's OIDC token, from the runner's token service as `@actions/core`'s getIDToken asks for
 * it. Asked here so that the bundle leaves out the HTTP client getIDToken brings, which was two
 * thirds of the Action's start-up. Refusals (4xx) are final; outages are retried.
 */
export async function requestIdToken(
  audience: string,
  env: NodeJS.ProcessEnv = process.env,
  backoff = new Backoff({ initialMs: 500, maxMs: 8_000 }),
): Promise<string> {
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url || !bearer)
    throw new Error(
      'the runner offers no OIDC token: ACTIONS_ID_TOKEN_REQUEST_URL or ACTIONS_ID_TOKEN_REQUEST_TOKEN is not set',
    );
  const target = new URL(url);
  target.searchParams.set('audience', audience);
  for (let attempt = 1; ; attempt++) {
    let problem: string;
    try {
      const answer = await fetch(target, {
        headers: {
          authorization: `Bearer ${bearer}`,
          accept: 'application/json',
        },
      });
      if (answer.ok) {
        const { value } = (await answer.json()) as { value?: unknown };
        if (typeof value !== 'string' || value === '')
          throw new Error('the token service answered without a token');
        core.setSecret(value);
        return value;
      }
      problem = `the token service answered HTTP ${answer.status}`;
      if (answer.status < 500 && answer.status !== 429)
        throw new Error(problem);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      problem = `the token service cannot be reached (${(error as Error).message})`;
    }
    if (attempt >= TOKEN_REQUEST_TRIES) throw new Error(problem);
    await sleep(backoff.next());
  }
}

export function oidcIdentity(
  audience: string,
  now: () => number = Date.now,
): Identity {
  let cached: { value: string; expiresAt: number } | undefined;
  return {
    kind: 'oidc',
    async token(options = {}) {
      if (
        !options.fresh &&
        cached &&
        cached.expiresAt - REFRESH_BEFORE_EXPIRY_SECONDS * 1000 > now()
      ) {
        return cached.value;
      }
      let value: string;
      try {
        value = await requestIdToken(audience);
      } catch (error) {
        throw new IdentityError(
          `Could not get a GitHub OIDC token (${untrusted((error as Error).message)}). The job needs ` +
            '`permissions: id-token: write` for the default `auth: oidc`; or set `auth: token` with a Backstage token.',
        );
      }
      // requestIdToken has already told the runner to mask it.
      const { exp } = decodeJwt(value);
      cached = { value, expiresAt: (exp ?? 0) * 1000 };
      return value;
    },
  };
}

export function staticIdentity(token: string): Identity {
  core.setSecret(token);
  return { kind: 'token', token: async () => token };
}
