import type { LoggerService } from '@backstage/backend-plugin-api';
import type { Approval } from '@im-approval/plugin-im-approval-common';
import { commitRange } from '../service/requestContext';
import type { GithubAppClient } from './GithubAppClient';

/** A request waits this long at most for GitHub to count; without the count it goes out as it is. */
const COUNT_TIMEOUT_MS = 3_000;
/** Counts kept: a range once counted does not change. */
const KEPT = 1_000;
/** How long the App's settings are taken as read: a request is not a settings read on its hot path. */
const APP_READ_MS = 60_000;
/** A range GitHub could not count is not asked again for this long, so card updates do not wait on it. */
const RETRY_AFTER_MS = 5 * 60_000;

/**
 * How many commits lead from the last approved request of the same template, repository and
 * environment to this one, for approvers to see, when the GitHub App is configured and installed
 * on the repository (contents: read). Best effort: any failure is no count, said at debug.
 */
export class CommitCounter {
  private readonly counted = new Map<string, number>();
  private readonly failedAt = new Map<string, number>();
  private app?: { client: GithubAppClient | undefined; readAt: number };

  constructor(
    private readonly github: {
      client(): Promise<GithubAppClient | undefined>;
    },
    private readonly logger: LoggerService,
  ) {}

  /** The count, or undefined; with `knownOnly`, only one already counted (GitHub is not asked). */
  async between(
    approval: Approval,
    previous: Approval | undefined,
    { knownOnly = false }: { knownOnly?: boolean } = {},
  ): Promise<number | undefined> {
    const range = commitRange(approval, previous);
    if (!range || approval.context.test) return undefined;
    const { repository } = approval.context;
    const key = `${repository} ${range.from}...${range.to}`.toLowerCase();
    const known = this.counted.get(key);
    if (known !== undefined || knownOnly) return known;
    const failed = this.failedAt.get(key);
    if (failed !== undefined && Date.now() - failed < RETRY_AFTER_MS)
      return undefined;
    const client = await this.client();
    if (!client) return undefined;
    try {
      const count = await client.commitsAhead(
        repository,
        range.from,
        range.to,
        COUNT_TIMEOUT_MS,
      );
      this.keep(this.counted, key, count);
      this.failedAt.delete(key);
      return count;
    } catch (error) {
      this.keep(this.failedAt, key, Date.now());
      this.logger.debug(
        `No commit count for ${repository} ${range.from}...${range.to}: ${(error as Error).message}`,
      );
      return undefined;
    }
  }

  /** The App's client, its settings read at most once a minute (a change is followed within one). */
  private async client(): Promise<GithubAppClient | undefined> {
    if (!this.app || Date.now() - this.app.readAt >= APP_READ_MS)
      this.app = { client: await this.github.client(), readAt: Date.now() };
    return this.app.client;
  }

  /** Keeps at most KEPT entries, the oldest going first. */
  private keep(map: Map<string, number>, key: string, value: number) {
    map.delete(key);
    if (map.size >= KEPT) map.delete(map.keys().next().value!);
    map.set(key, value);
  }
}
