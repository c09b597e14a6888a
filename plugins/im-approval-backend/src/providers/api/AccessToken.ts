/** What an IM's token endpoint gave: the token and its lifetime in seconds. */
export interface IssuedToken {
  value: string;
  expiresInSeconds: number;
}

/** Refresh this long before the stated expiry, so a token never expires mid-request. */
const REFRESH_MARGIN_MS = 3 * 60_000;

/**
 * One app's access token: fetched once per lifetime however many calls need it at once (the
 * fetch is shared), refreshed before expiry, and dropped when the IM says it is no longer valid.
 */
export class AccessToken {
  private token?: { value: string; refreshAt: number };
  private fetching?: Promise<string>;

  constructor(private readonly fetchToken: () => Promise<IssuedToken>) {}

  get(): Promise<string> {
    if (this.token && Date.now() < this.token.refreshAt)
      return Promise.resolve(this.token.value);
    this.fetching ??= this.fetchToken()
      .then(issued => {
        const lifetimeMs = issued.expiresInSeconds * 1000;
        this.token = {
          value: issued.value,
          refreshAt:
            Date.now() +
            Math.max(lifetimeMs - REFRESH_MARGIN_MS, lifetimeMs / 2),
        };
        return issued.value;
      })
      .finally(() => {
        this.fetching = undefined;
      });
    return this.fetching;
  }

  /** Fetches a new token now; rejects when the IM refuses the app's credentials. */
  async refresh(): Promise<void> {
    this.token = undefined;
    await this.get();
  }

  /** Runs a call with the token; when the IM refuses the token, fetches a new one and runs it once more. */
  async use<R>(
    attempt: (token: string) => Promise<R>,
    refused: (result: R) => boolean,
  ): Promise<R> {
    const token = await this.get();
    const result = await attempt(token);
    if (!refused(result)) return result;
    // Another call may have replaced the refused token already.
    if (this.token?.value === token) this.token = undefined;
    return attempt(await this.get());
  }
}
