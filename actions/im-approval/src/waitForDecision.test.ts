import { ApprovalsClient } from './ApprovalsClient';
import { approval, ID } from './testing/approval';
import { startScriptedBackend } from './testing/scriptedBackend';
import { waitForDecision } from './waitForDecision';

describe('waitForDecision', () => {
  it('long-polls again after each pending answer, logging progress about once a minute', async () => {
    // Each answer comes back 30 s later on the Action's clock.
    let clock = Date.parse('2026-11-21T08:00:00.000Z');
    const after30s = (body: object) => () => {
      clock += 30_000;
      return { status: 200, body };
    };
    const backend = await startScriptedBackend([
      ...Array.from({ length: 4 }, () => after30s(approval())),
      after30s(approval({ status: 'approved', decidedBy: 'alice@example.com' })),
    ]);
    try {
      const client = new ApprovalsClient({ apiUrl: backend.apiUrl, identity: { kind: 'token', token: async () => 't' }, onRetry: () => {} });
      const lines: string[] = [];
      const decided = await waitForDecision(client, approval(), { log: line => lines.push(line), now: () => clock });

      expect(decided).toMatchObject({ status: 'approved', decidedBy: 'alice@example.com' });
      expect(backend.requests.map(r => r.url)).toEqual(Array(5).fill(`/api/im-approval/approvals/${ID}/wait?timeout=30s`));
      expect(lines).toEqual([
        'Waiting for a decision on "Deploy api" (template deploy), approvers alice@example.com in feishu: https://im.example.com/INST-1; 59m left.',
        'Waiting for a decision on "Deploy api" (template deploy), approvers alice@example.com in feishu: https://im.example.com/INST-1; 58m left.',
      ]);
    } finally {
      await backend.close();
    }
  });
});
