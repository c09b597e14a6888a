import { AuthenticationError, NotAllowedError } from '@backstage/errors';
import type { RunContext } from '@im-approval/plugin-im-approval-common';
import {
  createRemoteJWKSet,
  decodeJwt,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import { z } from 'zod';
import type { GithubOidcSettings } from '../config/readImApprovalConfig';

// The claims GitHub puts in an Actions OIDC token that this plugin relies on.
const githubClaimsSchema = z.object({
  repository: z.string().min(1),
  repository_owner: z.string().min(1),
  ref: z.string().optional(),
  sha: z.string().optional(),
  actor: z.string().optional(),
  workflow: z.string().optional(),
  environment: z.string().optional(),
  event_name: z.string().optional(),
  run_id: z.string().optional(),
  run_attempt: z.string().optional(),
});

/** How far the runner's clock and ours may disagree. */
const CLOCK_SKEW_SECONDS = 60;
/** GitHub's tokens live minutes; an older one is refused whatever its exp says. */
const MAX_TOKEN_AGE = '1h';
const MAX_TOKEN_AGE_MS = 3_600_000;
/** Tokens remembered as verified at most; a waiting job holds one at a time. */
const MAX_REMEMBERED = 20_000;

export class GithubOidcVerifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;
  /**
   * Tokens already verified, with what they prove and until when. A waiting job sends the same
   * token every 25 s for its lifetime; its signature is checked once, never past its expiry.
   * Refusals are not remembered.
   */
  private readonly verified = new Map<
    string,
    { context: RunContext; until: number }
  >();

  constructor(
    private readonly settings: GithubOidcSettings,
    private readonly serverUrl: string,
  ) {
    this.jwks = createRemoteJWKSet(new URL(settings.jwksUrl), {
      timeoutDuration: 5000,
      cooldownDuration: 30_000,
    });
  }

  /** True when the bearer token says it was issued by the configured GitHub issuer. */
  claimsIssuer(token: string): boolean {
    try {
      return decodeJwt(token).iss === this.settings.issuer;
    } catch {
      return false;
    }
  }

  /** The run context the token proves. */
  async verify(token: string): Promise<RunContext> {
    const known = this.verified.get(token);
    if (known && known.until > Date.now()) return known.context;
    this.verified.delete(token);
    const { context, until } = await this.verifyAnew(token);
    if (this.verified.size >= MAX_REMEMBERED) {
      const now = Date.now();
      for (const [key, entry] of this.verified)
        if (entry.until <= now) this.verified.delete(key);
      // Still full: the oldest go first (a Map keeps insertion order).
      for (const key of this.verified.keys()) {
        if (this.verified.size < MAX_REMEMBERED) break;
        this.verified.delete(key);
      }
    }
    this.verified.set(token, { context, until });
    return context;
  }

  private async verifyAnew(
    token: string,
  ): Promise<{ context: RunContext; until: number }> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: ['RS256'],
        // GitHub sets all three; a token without them could be used forever, or before it was issued.
        requiredClaims: ['exp', 'iat'],
        maxTokenAge: MAX_TOKEN_AGE,
        clockTolerance: CLOCK_SKEW_SECONDS,
      }));
    } catch (error) {
      throw new AuthenticationError(
        `GitHub OIDC token refused: ${describeJoseError(error, this.settings.audience)}`,
      );
    }
    // The skew allowance is for tokens that look issued in the future; an expired one is expired.
    if (payload.exp! <= Date.now() / 1000)
      throw new AuthenticationError(
        'GitHub OIDC token refused: it has expired',
      );
    const claims = githubClaimsSchema.safeParse(payload);
    if (!claims.success) {
      throw new AuthenticationError(
        'GitHub OIDC token refused: it lacks the repository and repository_owner claims',
      );
    }
    const owner = claims.data.repository_owner.toLowerCase();
    if (
      !this.settings.allowedOwners.some(
        allowed => allowed.toLowerCase() === owner,
      )
    ) {
      throw new NotAllowedError(
        `Workflows of repository owner "${claims.data.repository_owner}" may not request approvals here (imApproval.github.oidc.allowedOwners)`,
      );
    }
    const c = claims.data;
    const context: RunContext = {
      repository: c.repository,
      ref: c.ref,
      sha: c.sha,
      actor: c.actor,
      workflow: c.workflow,
      environment: c.environment,
      eventName: c.event_name,
      runId: c.run_id,
      runAttempt: c.run_attempt,
      serverUrl: this.serverUrl,
    };
    return {
      context,
      until: Math.min(
        payload.exp! * 1000,
        payload.iat! * 1000 + MAX_TOKEN_AGE_MS,
      ),
    };
  }
}

function describeJoseError(error: unknown, audience: string): string {
  if (error instanceof joseErrors.JWTExpired)
    return error.claim === 'iat'
      ? 'it was issued more than an hour ago'
      : 'it has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'aud')
      return `its audience is not "${audience}" (set the Action's audience input)`;
    if (error.reason === 'missing') return `it has no "${error.claim}" claim`;
    if (error.claim === 'iat' || error.claim === 'nbf')
      return `its "${error.claim}" claim is in the future (is a clock wrong?)`;
    return `claim "${error.claim}" ${error.reason}`;
  }
  if (
    error instanceof joseErrors.JWSSignatureVerificationFailed ||
    error instanceof joseErrors.JWKSNoMatchingKey
  ) {
    return "its signature does not match the issuer's keys";
  }
  if (error instanceof joseErrors.JOSEError) return error.message;
  return `the issuer's keys could not be read (${(error as Error).message})`;
}
