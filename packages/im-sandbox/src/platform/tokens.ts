import { randomBytes } from 'node:crypto';

// Access tokens as the open platforms hand them out: two hours long, and the same token again
// while it has at least 30 minutes left (Feishu documents this; DingTalk and WeCom behave alike).

const TOKEN_TTL_MS = 2 * 60 * 60 * 1000;
const TOKEN_REUSE_MIN_MS = 30 * 60 * 1000;

export class Tokens {
  private readonly issued = new Map<
    string,
    { appId: string; expiresAt: number }
  >();

  /** `prefix` shapes the token like the IM's own ("t-" on Feishu). */
  constructor(private readonly prefix = '') {}

  issue(appId: string, now: number): { token: string; expiresIn: number } {
    for (const [token, issued] of this.issued) {
      if (
        issued.appId === appId &&
        issued.expiresAt - now >= TOKEN_REUSE_MIN_MS
      ) {
        return {
          token,
          expiresIn: Math.floor((issued.expiresAt - now) / 1000),
        };
      }
    }
    const token = `${this.prefix}${randomBytes(20).toString('hex')}`;
    this.issued.set(token, { appId, expiresAt: now + TOKEN_TTL_MS });
    return { token, expiresIn: TOKEN_TTL_MS / 1000 };
  }

  /** The app a valid token was issued to. */
  appIdOf(token: string | undefined, now: number): string | undefined {
    const issued = token === undefined ? undefined : this.issued.get(token);
    return issued && issued.expiresAt > now ? issued.appId : undefined;
  }

  /** Whether the token was issued here and has expired (IMs that tell expired from unknown need it). */
  isExpired(token: string, now: number): boolean {
    const issued = this.issued.get(token);
    return issued !== undefined && issued.expiresAt <= now;
  }

  /** Every issued token expires now; they stay known, as expired. */
  expireAll(): void {
    for (const issued of this.issued.values()) issued.expiresAt = 0;
  }
}
