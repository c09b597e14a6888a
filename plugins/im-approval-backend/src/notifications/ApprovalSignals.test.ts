import { mockServices } from '@backstage/backend-test-utils';
import type { SignalPayload } from '@backstage/plugin-signals-node';
import type {
  Approval,
  ApprovalSignal,
} from '@im-approval/plugin-im-approval-common';
import { randomUUID } from 'node:crypto';
import { ApprovalSignals } from './ApprovalSignals';

const change = (id: string, status: Approval['status']) =>
  ({ id, status }) as Approval;

describe('ApprovalSignals', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sends the changes of a moment together, each approval once with its latest status, at most 200 a signal', async () => {
    const sent: SignalPayload<ApprovalSignal>[] = [];
    const signals = new ApprovalSignals(
      {
        publish: async signal => {
          sent.push(signal as unknown as SignalPayload<ApprovalSignal>);
        },
      },
      mockServices.logger.mock(),
    );
    const [a, b] = [randomUUID(), randomUUID()];
    signals.changed(change(a, 'pending'));
    signals.changed(change(b, 'pending'));
    signals.changed(change(a, 'approved'));
    expect(sent).toHaveLength(0);
    jest.advanceTimersByTime(100);
    expect(sent).toEqual([
      {
        recipients: { type: 'broadcast' },
        channel: 'im-approval:approvals',
        message: {
          changes: [
            { id: a, status: 'approved' },
            { id: b, status: 'pending' },
          ],
        },
      },
    ]);

    const burst = Array.from({ length: 250 }, () => randomUUID());
    burst.forEach(id => signals.changed(change(id, 'rejected')));
    jest.advanceTimersByTime(100);
    expect(sent.slice(1).map(s => s.message.changes.length)).toEqual([200, 50]);
  });
});
