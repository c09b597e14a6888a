import { outcomeLine, progressLine } from './messages';
import { approval } from './testing/approval';

describe('messages', () => {
  it("names the approval's last IM error when it expires or fails, and while it waits", () => {
    const error = 'Feishu answered 1390001: approval definition not found';
    expect(outcomeLine(approval({ status: 'expired', error }))).toBe(
      `Nobody decided before the approval expired at 2026-11-21T09:00:00.000Z; the last IM error: ${error}`,
    );
    expect(outcomeLine(approval({ status: 'expired' }))).toBe(
      'Nobody decided before the approval expired at 2026-11-21T09:00:00.000Z',
    );
    expect(outcomeLine(approval({ status: 'failed', error }))).toBe(
      `The approval failed: ${error}`,
    );
    expect(
      progressLine(
        approval({ imUrl: null, error }),
        Date.parse('2026-11-21T08:30:00.000Z'),
      ),
    ).toBe(
      `Waiting for a decision on "Deploy api" (template deploy), approvers alice@example.com in feishu; 30m left. The last IM error: ${error}`,
    );
  });

  it('names who decided by name and IM id, and a canceller by the caller id once', () => {
    expect(
      outcomeLine(
        approval({
          status: 'approved',
          decidedBy: 'Alice Chen',
          decidedById: 'ou_alice',
          comment: 'ship it',
        }),
      ),
    ).toBe('Approved by Alice Chen (ou_alice): "ship it"');
    expect(
      outcomeLine(
        approval({
          status: 'canceled',
          decidedBy: 'github:acme/api',
          decidedById: 'github:acme/api',
        }),
      ),
    ).toBe('The approval was canceled by github:acme/api');
  });
});
