import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { APPROVAL_SIGNAL_CHANNEL } from '@im-approval/plugin-im-approval-common';
import { act } from 'react';
import {
  approval,
  fakeApi,
  fakeSignals,
  renderPage,
} from '../../__testUtils__/renderPage';

const path = `/approvals/${approval.id}`;

describe('an approval’s details', () => {
  it('shows the timeline, the verified context, the form values sent and the links out', async () => {
    const api = fakeApi({ getApproval: jest.fn(async () => approval) });
    await renderPage(api, path);

    expect(
      await screen.findByRole('heading', { name: 'Deploy api from acme/api' }),
    ).toBeInTheDocument();
    expect(api.getApproval).toHaveBeenCalledWith(approval.id);
    expect(screen.getByText('Verified: GitHub OIDC token')).toBeInTheDocument();
    expect(screen.getByText('im instance created')).toBeInTheDocument();
    expect(screen.getByText('release 1.2')).toBeInTheDocument();
    expect(
      screen.getByText(
        'Octo Cat (GitHub octocat, user:default/octocat); identified by the verified GitHub actor',
      ),
    ).toBeInTheDocument();
    expect(
      screen.getByText(approval.context.runUrl!).closest('a'),
    ).toHaveAttribute('href', approval.context.runUrl);
    expect(screen.getByText('INST-1').closest('a')).toHaveAttribute(
      'href',
      approval.imUrl,
    );
  });

  it('shows a decision the moment the backend signals it, without a reload', async () => {
    const api = fakeApi({ getApproval: jest.fn(async () => approval) });
    const signals = fakeSignals();
    await renderPage(api, path, { signals: signals.api });
    await screen.findByRole('heading', { name: 'Deploy api from acme/api' });

    // Another approval's change is not this page's.
    act(() =>
      signals.send(APPROVAL_SIGNAL_CHANNEL, {
        changes: [
          { id: '00000000-0000-4000-8000-000000000000', status: 'approved' },
        ],
      }),
    );
    api.getApproval.mockImplementation(async () => ({
      ...approval,
      status: 'approved' as const,
      decidedBy: 'Bob Li',
      decidedById: 'ou_bob',
      decidedAt: '2025-01-02T10:02:00.000Z',
    }));
    act(() =>
      signals.send(APPROVAL_SIGNAL_CHANNEL, {
        changes: [{ id: approval.id, status: 'approved' }],
      }),
    );
    expect(await screen.findByText('Bob Li (ou_bob)')).toBeInTheDocument();
    expect(api.getApproval).toHaveBeenCalledTimes(2);
  });

  it('links only to http(s) addresses, whatever a caller or an IM reported', async () => {
    // eslint-disable-next-line no-script-url -- the test feeds script URLs in to check that none becomes a link
    const scheme = 'javascript:';
    const runUrl = `${scheme}alert(1)//acme/api/actions/runs/1`;
    const api = fakeApi({
      getApproval: jest.fn(async () => ({
        ...approval,
        imUrl: `${scheme}alert(2)`,
        context: { ...approval.context, runUrl },
      })),
    });
    await renderPage(api, path);
    expect((await screen.findByText(runUrl)).closest('a')).toBeNull();
    expect(screen.getByText('INST-1').closest('a')).toBeNull();
  });

  it('shows the IM error of an approval whose IM request was never created', async () => {
    const error =
      'Feishu answered HTTP 503 when asked to create the instance: an outage at Feishu; retrying later';
    const api = fakeApi({
      getApproval: jest.fn(async () => ({
        ...approval,
        status: 'expired' as const,
        imInstanceId: null,
        imUrl: null,
        error,
      })),
    });
    await renderPage(api, path);
    expect(await screen.findByText(error)).toBeInTheDocument();
  });

  it('marks a context the caller reported itself', async () => {
    const api = fakeApi({
      getApproval: jest.fn(async () => ({
        ...approval,
        context: { ...approval.context, verified: false },
      })),
    });
    await renderPage(api, path);
    expect(
      await screen.findByText('Self-reported by the caller'),
    ).toBeInTheDocument();
  });

  it('requires a reason before an administrator approves, then sends it and reloads', async () => {
    const approved = {
      ...approval,
      status: 'approved' as const,
      decidedBy: 'user:default/admin',
      decidedById: 'user:default/admin',
      comment: 'hotfix',
    };
    const api = fakeApi({
      getApproval: jest
        .fn()
        .mockResolvedValueOnce(approval)
        .mockResolvedValue(approved),
      decideApproval: jest.fn(async () => approved),
    });
    await renderPage(api, path);

    fireEvent.click(await screen.findByRole('button', { name: 'Approve' }));
    const dialog = await screen.findByRole('dialog');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Approve' }));
    expect(
      await within(dialog).findByText('a reason is required'),
    ).toBeInTheDocument();
    expect(api.decideApproval).not.toHaveBeenCalled();

    fireEvent.change(within(dialog).getByLabelText(/Reason/), {
      target: { value: 'hotfix' },
    });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Approve' }));
    await waitFor(() =>
      expect(api.decideApproval).toHaveBeenCalledWith(approval.id, {
        decision: 'approved',
        comment: 'hotfix',
      }),
    );
    // Decided approvals offer no actions.
    await waitFor(() =>
      expect(
        screen.queryByRole('button', { name: 'Reject' }),
      ).not.toBeInTheDocument(),
    );
    expect(api.getApproval).toHaveBeenCalledTimes(2);
  });

  it('cancels with an optional reason and shows a refusal from the backend', async () => {
    const api = fakeApi({
      getApproval: jest.fn(async () => approval),
      cancelApproval: jest.fn(async () =>
        Promise.reject(new Error('the approval is already approved')),
      ),
    });
    await renderPage(api, path);
    fireEvent.click(
      await screen.findByRole('button', { name: 'Cancel approval' }),
    );
    const dialog = await screen.findByRole('dialog');
    fireEvent.click(
      within(dialog).getByRole('button', { name: 'Cancel approval' }),
    );
    expect(
      await within(dialog).findByText('the approval is already approved'),
    ).toBeInTheDocument();
    expect(api.cancelApproval).toHaveBeenCalledWith(approval.id, undefined);
  });

  it('offers no decision to people without the decide permission', async () => {
    const api = fakeApi({ getApproval: jest.fn(async () => approval) });
    await renderPage(api, path, { deny: ['im-approval.approval.decide'] });
    expect(
      await screen.findByText(
        /Only holders of the im-approval\.approval\.decide permission/,
      ),
    ).toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Approve' }),
    ).not.toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Cancel approval' }),
    ).not.toBeInTheDocument();
  });

  it('shows why an approval could not be loaded', async () => {
    const api = fakeApi({
      getApproval: jest.fn(async () =>
        Promise.reject(new Error('Approval not found')),
      ),
    });
    await renderPage(api, path);
    expect(
      (await screen.findAllByText(/Approval not found/)).length,
    ).toBeGreaterThan(0);
  });
});
