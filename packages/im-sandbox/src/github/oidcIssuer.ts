import {
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWTPayload,
} from 'jose';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The claims of a GitHub Actions OIDC token that the backend reads. */
export interface GithubRunClaims extends JWTPayload {
  repository: string;
  repository_owner: string;
  ref?: string;
  sha?: string;
  actor?: string;
  workflow?: string;
  environment?: string;
  event_name?: string;
  run_id?: string;
  run_attempt?: string;
}

export interface SignOptions {
  audience?: string;
  /** Seconds from now; negative for an already expired token. Default 300. */
  expiresIn?: number;
  /** Sign with a key the JWKS does not publish: a forged token. */
  forged?: boolean;
  issuer?: string;
  /** Seconds from now for `iat` (default −5); positive for a token issued in the future. */
  issuedIn?: number;
  /** Seconds from now for `nbf`; the same as `iat` by default. */
  validIn?: number;
  /** Claims to leave out, as a faulty or hostile issuer might. */
  omit?: Array<'exp' | 'iat' | 'nbf'>;
}

export interface GithubOidcIssuer {
  /** Use as `imApproval.github.oidc.issuer`; its JWKS is at `<issuer>/.well-known/jwks`. */
  issuer: string;
  sign(claims: GithubRunClaims, options?: SignOptions): Promise<string>;
  /** What a runner gives a job: ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
  runnerEnv(claims: GithubRunClaims): {
    ACTIONS_ID_TOKEN_REQUEST_URL: string;
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: string;
  };
  close(): Promise<void>;
}

/**
 * A local stand-in for token.actions.githubusercontent.com: an OpenID configuration, a JWKS,
 * and the runner's token request endpoint (`GET /token?audience=…` with a bearer request token).
 */
export async function startGithubOidcIssuer(
  options: { port?: number; host?: string } = {},
): Promise<GithubOidcIssuer> {
  const kid = randomUUID();
  const trusted = await generateKeyPair('RS256', { extractable: true });
  const untrusted = await generateKeyPair('RS256');
  const jwk = {
    ...(await exportJWK(trusted.publicKey)),
    kid,
    alg: 'RS256',
    use: 'sig',
  };
  const runs = new Map<string, GithubRunClaims>();
  let issuer = '';

  const sign = (claims: GithubRunClaims, signOptions: SignOptions = {}) => {
    const key: CryptoKey = signOptions.forged
      ? untrusted.privateKey
      : trusted.privateKey;
    const now = Math.floor(Date.now() / 1000);
    const omitted = new Set(signOptions.omit);
    const issued = now + (signOptions.issuedIn ?? -5);
    const jwt = new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
      .setIssuer(signOptions.issuer ?? issuer)
      .setAudience(signOptions.audience ?? 'im-approval')
      .setSubject(
        `repo:${claims.repository}:ref:${claims.ref ?? 'refs/heads/main'}`,
      )
      .setJti(randomUUID());
    if (!omitted.has('iat')) jwt.setIssuedAt(issued);
    if (!omitted.has('nbf'))
      jwt.setNotBefore(
        now + (signOptions.validIn ?? signOptions.issuedIn ?? -5),
      );
    if (!omitted.has('exp'))
      jwt.setExpirationTime(now + (signOptions.expiresIn ?? 300));
    return jwt.sign(key);
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const send = (status: number, body: unknown) => {
      res
        .writeHead(status, { 'content-type': 'application/json' })
        .end(JSON.stringify(body));
    };
    if (url.pathname === '/.well-known/openid-configuration') {
      send(200, {
        issuer,
        jwks_uri: `${issuer}/.well-known/jwks`,
        id_token_signing_alg_values_supported: ['RS256'],
      });
    } else if (url.pathname === '/.well-known/jwks') {
      send(200, { keys: [jwk] });
    } else if (url.pathname === '/token') {
      const claims = runs.get(
        req.headers.authorization?.replace(/^Bearer\s+/i, '') ?? '',
      );
      if (!claims) {
        send(401, { message: 'Bad credentials' });
        return;
      }
      sign(claims, {
        audience: url.searchParams.get('audience') ?? undefined,
      }).then(
        value => send(200, { value }),
        error => send(500, { message: String(error) }),
      );
    } else {
      send(404, { message: 'Not Found' });
    }
  });
  await new Promise<void>(resolve =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const address = server.address() as AddressInfo;
  issuer = `http://${options.host ?? '127.0.0.1'}:${address.port}`;

  return {
    issuer,
    sign,
    runnerEnv(claims) {
      const requestToken = randomUUID();
      runs.set(requestToken, claims);
      // The runner hands out a URL that already has a query; @actions/core appends `&audience=…`.
      return {
        ACTIONS_ID_TOKEN_REQUEST_URL: `${issuer}/token?api-version=2.0`,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
      };
    },
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
