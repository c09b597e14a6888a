import { mockServices } from '@backstage/backend-test-utils';
import {
  approvalWith as approval,
  EARLIER,
  SHA,
} from '../service/__testUtils__/approvalFixture';
import { CommitCounter } from './CommitCounter';
import { GithubCallError, type GithubAppClient } from './GithubAppClient';

describe('CommitCounter', () => {
  const commitsAhead = jest.fn();
  const counter = (client?: object) =>
    new CommitCounter(
      { client: async () => client as GithubAppClient | undefined },
      mockServices.logger.mock(),
    );
  beforeEach(() => commitsAhead.mockReset());

  it('asks GitHub once per range, and not for a test, the same commit or without the App', async () => {
    commitsAhead.mockResolvedValue(4);
    const counting = counter({ commitsAhead });
    const previous = approval({ sha: EARLIER });
    expect(await counting.between(approval(), previous)).toBe(4);
    expect(await counting.between(approval(), previous)).toBe(4);
    expect(commitsAhead).toHaveBeenCalledTimes(1);
    expect(commitsAhead).toHaveBeenCalledWith(
      'acme/shop',
      EARLIER,
      SHA,
      expect.any(Number),
    );
    expect(
      await counting.between(approval({ test: true }), previous),
    ).toBeUndefined();
    expect(await counting.between(approval(), approval())).toBeUndefined();
    expect(await counting.between(approval(), undefined)).toBeUndefined();
    expect(await counter().between(approval(), previous)).toBeUndefined();
    expect(commitsAhead).toHaveBeenCalledTimes(1);
  });

  it('answers no count when GitHub cannot tell, and asks again only five minutes later', async () => {
    commitsAhead.mockRejectedValueOnce(
      new GithubCallError('GitHub answered 403: not accessible', 403),
    );
    commitsAhead.mockResolvedValueOnce(2);
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
    try {
      const counting = counter({ commitsAhead });
      const previous = approval({ sha: EARLIER });
      expect(await counting.between(approval(), previous)).toBeUndefined();
      expect(await counting.between(approval(), previous)).toBeUndefined();
      expect(commitsAhead).toHaveBeenCalledTimes(1);
      now.mockReturnValue(1_000_000 + 5 * 60_000);
      expect(await counting.between(approval(), previous)).toBe(2);
    } finally {
      now.mockRestore();
    }
  });

  it('reads the App’s settings at most once a minute, so a request is not a settings read', async () => {
    commitsAhead.mockResolvedValue(1);
    const client = jest.fn(
      async () => ({ commitsAhead }) as unknown as GithubAppClient,
    );
    const counting = new CommitCounter({ client }, mockServices.logger.mock());
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
    try {
      await counting.between(approval(), approval({ sha: EARLIER }));
      await counting.between(
        approval({ sha: 'b'.repeat(40) }),
        approval({ sha: EARLIER }),
      );
      expect(client).toHaveBeenCalledTimes(1);
      now.mockReturnValue(1_000_000 + 60_000);
      await counting.between(
        approval({ sha: 'c'.repeat(40) }),
        approval({ sha: EARLIER }),
      );
      expect(client).toHaveBeenCalledTimes(2);
      expect(commitsAhead).toHaveBeenCalledTimes(3);
    } finally {
      now.mockRestore();
    }
  });

  it('answers only a count already known when asked not to wait on GitHub', async () => {
    commitsAhead.mockResolvedValue(7);
    const counting = counter({ commitsAhead });
    const previous = approval({ sha: EARLIER });
    const quick = { knownOnly: true };
    expect(await counting.between(approval(), previous, quick)).toBeUndefined();
    expect(commitsAhead).not.toHaveBeenCalled();
    await counting.between(approval(), previous);
    expect(await counting.between(approval(), previous, quick)).toBe(7);
  });
});
