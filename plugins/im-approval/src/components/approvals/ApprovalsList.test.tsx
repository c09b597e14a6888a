import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  APPROVAL_SIGNAL_CHANNEL,
  type Approval,
} from '@im-approval/plugin-im-approval-common';
import { act } from 'react';
import {
  approval,
  fakeApi,
  fakeSignals,
  renderPage,
} from '../../__testUtils__/renderPage';

/** One page of approvals as the backend answers it. */
function page(...items: Approval[]) {
  return { items, totalCount: items.length, offset: 0, limit: 25 };
}

describe('the approvals list', () => {
  it('shows the approvals the backend pages through, linking each to its details', async () => {
    const api = fakeApi({
      listApprovals: jest.fn(async () => ({
        items: [
          {
            ...approval,
            status: 'approved' as const,
            decidedBy: 'Alice Chen',
            decidedById: 'ou_alice',
            decidedAt: '2025-01-02T10:05:00.000Z',
          },
        ],
        totalCount: 1,
        offset: 0,
        limit: 25,
      })),
    });
    await renderPage(api, '/');

    const link = await screen.findByRole('link', {
      name: 'Deploy api from acme/api',
    });
    expect(link).toHaveAttribute('href', `/approvals/${approval.id}`);
    const row = link.closest('tr')!;
    expect(within(row).getByText('acme/api')).toBeInTheDocument();
    expect(within(row).getByText('deploy')).toBeInTheDocument();
    expect(within(row).getByText('Alice Chen (ou_alice)')).toBeInTheDocument();
    expect(within(row).getByText('approved')).toBeInTheDocument();
    // It waited five minutes for its decision.
    expect(within(row).getByText('5m').parentElement).toHaveTextContent(
      'after 5m',
    );
    expect(api.listApprovals).toHaveBeenCalledWith({
      limit: 25,
      offset: 0,
      q: undefined,
      status: undefined,
      template: undefined,
      repository: undefined,
    });
  });

  it('asks the backend again with the status and repository chosen', async () => {
    const api = fakeApi({
      listApprovals: jest.fn(async () => page()),
    });
    await renderPage(api, '/');
    await screen.findByText(/No approvals yet/);

    fireEvent.mouseDown(screen.getByRole('button', { name: /Any status/ }));
    fireEvent.click(await screen.findByRole('option', { name: 'rejected' }));
    fireEvent.change(screen.getByLabelText('Repository'), {
      target: { value: 'acme/web' },
    });

    await waitFor(() =>
      expect(api.listApprovals).toHaveBeenLastCalledWith(
        expect.objectContaining({
          status: 'rejected',
          repository: 'acme/web',
          offset: 0,
        }),
      ),
    );
    expect(
      await screen.findByText('No approval matches these filters.'),
    ).toBeInTheDocument();
  });

  it('lists my own approvals, and reads the page again when the backend signals a change', async () => {
    const api = fakeApi({
      listApprovals: jest.fn(async () => page(approval)),
    });
    const signals = fakeSignals();
    await renderPage(api, '/', { signals: signals.api });
    await screen.findByRole('link', { name: 'Deploy api from acme/api' });

    fireEvent.mouseDown(screen.getByRole('button', { name: /Everyone's/ }));
    fireEvent.click(
      await screen.findByRole('option', { name: 'Waiting on me' }),
    );
    await waitFor(() =>
      expect(api.listApprovals).toHaveBeenLastCalledWith(
        expect.objectContaining({ mine: 'waiting', offset: 0 }),
      ),
    );
    const calls = api.listApprovals.mock.calls.length;
    act(() =>
      signals.send(APPROVAL_SIGNAL_CHANNEL, {
        changes: [{ id: approval.id, status: 'approved' }],
      }),
    );
    await waitFor(() =>
      expect(api.listApprovals).toHaveBeenCalledTimes(calls + 1),
    );
    expect(api.listApprovals).toHaveBeenLastCalledWith(
      expect.objectContaining({ mine: 'waiting' }),
    );
  });

  it('says nothing matched, rather than that there are no approvals, after a search', async () => {
    const api = fakeApi({
      listApprovals: jest.fn(async () => page()),
    });
    await renderPage(api, '/');
    await screen.findByText(/No approvals yet/);

    fireEvent.change(screen.getByPlaceholderText('Filter'), {
      target: { value: 'billing' },
    });
    await waitFor(() =>
      expect(api.listApprovals).toHaveBeenLastCalledWith(
        expect.objectContaining({ q: 'billing' }),
      ),
    );
    expect(
      await screen.findByText('No approval matches these filters.'),
    ).toBeInTheDocument();
  });

  it('shows the backend error instead of an empty table', async () => {
    const api = fakeApi({
      listApprovals: jest.fn(async () =>
        Promise.reject(new Error('database is unreachable')),
      ),
    });
    await renderPage(api, '/');
    expect(
      (await screen.findAllByText(/database is unreachable/)).length,
    ).toBeGreaterThan(0);
  });

  it('says the backend cannot be reached, never that permission is lacking, and reads again on Retry', async () => {
    const api = fakeApi({
      listApprovals: jest
        .fn()
        .mockRejectedValueOnce(new TypeError('Failed to fetch'))
        .mockResolvedValue(page(approval)),
    });
    await renderPage(api, '/');
    expect(
      await screen.findByText('The IM approval backend did not answer'),
    ).toBeInTheDocument();
    expect(
      screen.getByText(
        /Could not read approvals: cannot reach the IM approval backend: Failed to fetch/,
      ),
    ).toBeInTheDocument();
    expect(screen.queryByText(/not allowed|lacks/)).not.toBeInTheDocument();

    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(
      await screen.findByRole('link', { name: 'Deploy api from acme/api' }),
    ).toBeInTheDocument();
    expect(
      screen.queryByText('The IM approval backend did not answer'),
    ).not.toBeInTheDocument();
  });

  it('shows a failed permission check as the backend being unreachable, not as a denial', async () => {
    const api = fakeApi();
    await renderPage(api, '/', {
      permissionError: new TypeError('Failed to fetch'),
    });
    expect(
      await screen.findByText(
        /Could not check your permission to read approvals: cannot reach the IM approval backend/,
      ),
    ).toBeInTheDocument();
    expect(
      screen.queryByText('You are not allowed to see this'),
    ).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Retry' })).toBeInTheDocument();
  });

  it('takes its filters from the URL, so a shared link shows the same view', async () => {
    const api = fakeApi({
      listApprovals: jest.fn(async () => page()),
    });
    await renderPage(
      api,
      '/?status=pending&template=deploy&repository=acme%2Fweb&mine=waiting&q=billing',
    );
    await waitFor(() =>
      expect(api.listApprovals).toHaveBeenCalledWith(
        expect.objectContaining({
          status: 'pending',
          template: 'deploy',
          repository: 'acme/web',
          mine: 'waiting',
          q: 'billing',
        }),
      ),
    );
    expect(screen.getByLabelText('Repository')).toHaveValue('acme/web');
    expect(screen.getByLabelText('Template')).toHaveValue('deploy');
    expect(screen.getByRole('button', { name: /pending/ })).toBeInTheDocument();
  });

  it('keeps the search typed when another filter changes', async () => {
    const api = fakeApi({
      listApprovals: jest.fn(async () => page()),
    });
    await renderPage(api, '/');
    await screen.findByText(/No approvals yet/);
    fireEvent.change(screen.getByPlaceholderText('Filter'), {
      target: { value: 'billing' },
    });
    await waitFor(() =>
      expect(api.listApprovals).toHaveBeenLastCalledWith(
        expect.objectContaining({ q: 'billing' }),
      ),
    );
    fireEvent.mouseDown(screen.getByRole('button', { name: /Any status/ }));
    fireEvent.click(await screen.findByRole('option', { name: 'pending' }));
    await waitFor(() =>
      expect(api.listApprovals).toHaveBeenLastCalledWith(
        expect.objectContaining({ status: 'pending', q: 'billing' }),
      ),
    );
    expect(screen.getByPlaceholderText('Filter')).toHaveValue('billing');
  });

  it('ignores unknown filter values in a hand-edited URL', async () => {
    const api = fakeApi({
      listApprovals: jest.fn(async () => page()),
    });
    await renderPage(api, '/?status=bogus&mine=everyone');
    await screen.findByText(/No approvals yet/);
    expect(api.listApprovals).toHaveBeenLastCalledWith(
      expect.objectContaining({ status: undefined, mine: undefined }),
    );
  });

  it('offers the repositories and templates recent approvals have, as the user types', async () => {
    const api = fakeApi({
      listApprovals: jest.fn(async () => page()),
      listApprovalFacets: jest.fn(async (q?: string) => ({
        templates: ['deploy'],
        repositories: ['acme/api', 'acme/web'].filter(r => r.includes(q ?? '')),
      })),
    });
    await renderPage(api, '/');
    await screen.findByText(/No approvals yet/);
    const repository = screen.getByLabelText('Repository');
    fireEvent.change(repository, { target: { value: 'web' } });
    await waitFor(() =>
      expect(api.listApprovalFacets).toHaveBeenLastCalledWith('web'),
    );
    fireEvent.keyDown(repository, { key: 'ArrowDown' });
    fireEvent.click(await screen.findByRole('option', { name: 'acme/web' }));
    await waitFor(() =>
      expect(api.listApprovals).toHaveBeenLastCalledWith(
        expect.objectContaining({ repository: 'acme/web' }),
      ),
    );
    expect(screen.queryByRole('option', { name: 'acme/api' })).toBeNull();
  });

  it('says how fresh the list is', async () => {
    const api = fakeApi({
      listApprovals: jest.fn(async () => page(approval)),
    });
    await renderPage(api, '/');
    expect(await screen.findByText('Updated just now')).toBeInTheDocument();
  });

  it('explains a missing read permission and never asks for approvals', async () => {
    const api = fakeApi();
    await renderPage(api, '/', { deny: ['im-approval.approval.read'] });
    expect(
      await screen.findByText('You are not allowed to see this'),
    ).toBeInTheDocument();
    expect(screen.getByText(/im-approval\.approval\.read/)).toBeInTheDocument();
    expect(api.listApprovals).not.toHaveBeenCalled();
  });
});
