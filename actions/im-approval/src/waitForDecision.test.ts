import nock from 'nock';
import { ApprovalsClient } from './ApprovalsClient';
import { approval, ID } from './testing/approval';
import { waitForDecision } from './waitForDecision';

const API = 'https://backstage.example.com/api/im-approval';

describe('waitForDecision', () => {
  beforeAll(() => nock.disableNetConnect());
  afterAll(() => {
  nock.enableNetConnect();
  nock.restore();
});

  it('long-polls again after each pending answer, logging progress about once a minute', async () => {
    // Each answer comes back 30 s later on the Action's clock.
    let clock = Date.parse('2026-11-21T08:00:00.000Z');
    const answer = (body: object) => () => {
      clock += 30_000;
      return [200, body] as const;
    };
    const poll = nock(API).get(`/approvals/${ID}/wait`).query({ timeout: '30s' });
    poll.times(4).reply(answer(approval()));
    nock(API).get(`/approvals/${ID}/wait`).query(true).reply(answer(approval({ status: 'approved', decidedBy: 'alice@example.com' })));

    const client = new ApprovalsClient({ apiUrl: API, identity: { kind: 'token', token: async () => 't' }, onRetry: () => {} });
    const lines: string[] = [];
    const decided = await waitForDecision(client, approval(), { log: line => lines.push(line), now: () => clock });

    expect(decided).toMatchObject({ status: 'approved', decidedBy: 'alice@example.com' });
    expect(lines).toEqual([
      'Waiting for a decision on "Deploy api" (template deploy), approvers alice@example.com in feishu: https://im.example.com/INST-1; 59m left.',
      'Waiting for a decision on "Deploy api" (template deploy), approvers alice@example.com in feishu: https://im.example.com/INST-1; 58m left.',
    ]);
    expect(nock.isDone()).toBe(true);
  });
});
