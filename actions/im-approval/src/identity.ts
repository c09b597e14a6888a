import * as core from '@actions/core';
import { decodeJwt } from 'jose';
import { requestIdToken } from './oidcToken';
import { untrusted } from './untrusted';

/** Who the Action is to the backend: a bearer token, fetched again when the backend refuses it. */
export interface Identity {
  readonly kind: 'oidc' | 'token';
  token(options?: { fresh?: boolean }): Promise<string>;
}

export class IdentityError extends Error {}

/** GitHub OIDC tokens live minutes while a wait can last days, so one is fetched per use near expiry. */
const REFRESH_BEFORE_EXPIRY_SECONDS = 60;
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
        value = await requestIdToken(audience, { mask: core.setSecret });
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
