import type { LoggerService } from '@backstage/backend-plugin-api';
import type { Approval } from '@im-approval/plugin-im-approval-common';
import { commitRange } from '../service/requestContext';
import type { GithubAppClient } from './GithubAppClient';

/** A request waits this long at most for GitHub to count; without the count it goes out as it is. */
const COUNT_TIMEOUT_MS = 3_000;
/** Counts kept: a range once counted does not change. */
const KEPT = 1_000;

/**
 * How many commits lead from the last approved request of the same template, repository and
 * environment to this one, for approvers to see, when the GitHub App is configured and installed
 * on the repository (contents: read). Best effort: any failure is no count, said at debug.
 */
export class CommitCounter {
  private readonly counted = new Map<string, number>();

  constructor(
    private readonly github: {
      client(): Promise<GithubAppClient | undefined>;
    },
    private readonly logger: LoggerService,
  ) {}

  async between(
    approval: Approval,
    previous: Approval | undefined,
  ): Promise<number | undefined> {
    const range = commitRange(approval, previous);
    if (!range || approval.context.test) return undefined;
    const { repository } = approval.context;
    const key = `${repository} ${range.from}...${range.to}`.toLowerCase();
    const known = this.counted.get(key);
    if (known !== undefined) return known;
    const client = await this.github.client();
    if (!client) return undefined;
    try {
      const count = await client.commitsAhead(
        repository,
        range.from,
        range.to,
        COUNT_TIMEOUT_MS,
      );
      if (this.counted.size >= KEPT)
        this.counted.delete(this.counted.keys().next().value!);
      this.counted.set(key, count);
      return count;
    } catch (error) {
      this.logger.debug(
        `No commit count for ${repository} ${range.from}...${range.to}: ${(error as Error).message}`,
      );
      return undefined;
    }
  }
}
