import { Backoff, sleep } from './backoff';

const TOKEN_REQUEST_TRIES = 5;

export interface IdTokenRequestOptions {
  /** Tells the runner to mask the token in the log (`core.setSecret`). */
  mask(token: string): void;
  env?: NodeJS.ProcessEnv;
  backoff?: Backoff;
}

/**
 * The job's OIDC token, from the runner's token service as `@actions/core`'s getIDToken asks for
 * it. Asked here so that the bundle leaves out the HTTP client getIDToken brings, which was two
 * thirds of the Action's start-up. Refusals (4xx) are final; outages are retried.
 */
export async function requestIdToken(
  audience: string,
  {
    mask,
    env = process.env,
    backoff = new Backoff({ initialMs: 500, maxMs: 8_000 }),
  }: IdTokenRequestOptions,
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
        mask(value);
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
