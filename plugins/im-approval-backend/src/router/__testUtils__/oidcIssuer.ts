import {
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWTPayload,
} from 'jose';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The run claims of a GitHub Actions OIDC token. */
export interface RunClaims extends JWTPayload {
  repository?: string;
  repository_owner?: string;
  ref?: string;
  environment?: string;
  run_id?: string;
  actor?: string;
}

/**
 * How to mint a token; every time claim is in seconds from now, and `null` leaves the claim out,
 * as a faulty or hostile issuer might.
 */
export interface MintOptions {
  audience?: string;
  issuer?: string;
  exp?: number | null;
  iat?: number | null;
  nbf?: number | null;
  /** Sign with a key the JWKS does not publish. */
  untrustedKey?: boolean;
}

export interface TestOidcIssuer {
  /** Use as `imApproval.github.oidc.issuer`; the JWKS is at `<issuer>/.well-known/jwks`. */
  issuer: string;
  audience: string;
  mint(claims: RunClaims, options?: MintOptions): Promise<string>;
  close(): Promise<void>;
}

/**
 * A stand-in for GitHub's token issuer on loopback that, unlike GitHub, also mints every kind of
 * bad token: without `exp` or `iat`, issued or valid in the future, for another audience, signed
 * with a key it does not publish.
 */
export async function startTestOidcIssuer(
  audience = 'im-approval',
): Promise<TestOidcIssuer> {
  const kid = randomUUID();
  const trusted = await generateKeyPair('RS256', { extractable: true });
  const untrusted = await generateKeyPair('RS256');
  const jwk = {
    ...(await exportJWK(trusted.publicKey)),
    kid,
    alg: 'RS256',
    use: 'sig',
  };

  const server = createServer((req, res) => {
    const body = req.url?.startsWith('/.well-known/jwks')
      ? { keys: [jwk] }
      : { message: 'Not Found' };
    res
      .writeHead(req.url?.startsWith('/.well-known/jwks') ? 200 : 404, {
        'content-type': 'application/json',
      })
      .end(JSON.stringify(body));
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer,
    audience,
    async mint(claims, options = {}) {
      const now = Math.floor(Date.now() / 1000);
      const at = (value: number | null | undefined, fallback: number) =>
        value === null ? undefined : now + (value ?? fallback);
      const payload: JWTPayload = {
        ...claims,
        iss: options.issuer ?? issuer,
        aud: options.audience ?? audience,
        sub: `repo:${claims.repository}:ref:${claims.ref ?? 'refs/heads/main'}`,
        jti: randomUUID(),
        iat: at(options.iat, -5),
        nbf: at(options.nbf, -5),
        exp: at(options.exp, 300),
      };
      for (const key of ['iat', 'nbf', 'exp'] as const)
        if (payload[key] === undefined) delete payload[key];
      const key: CryptoKey = options.untrustedKey
        ? untrusted.privateKey
        : trusted.privateKey;
      return new SignJWT(payload)
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
        .sign(key);
    },
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
