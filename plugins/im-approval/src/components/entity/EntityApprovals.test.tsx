import type { Entity } from '@backstage/catalog-model';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { signalApiRef } from '@backstage/plugin-signals-react';
import { APPROVAL_SIGNAL_CHANNEL } from '@im-approval/plugin-im-approval-common';
import { screen, waitFor, within } from '@testing-library/react';
import { act } from 'react';
import { imApprovalApiRef } from '../../api/ImApprovalApi';
import { approval, fakeApi, fakeSignals } from '../../__testUtils__/renderPage';
import {
  EntityImApprovalsCard,
  EntityImApprovalsContent,
} from './EntityApprovals';

const component = (annotations: Record<string, string>): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'api', annotations },
  spec: { type: 'service', lifecycle: 'production', owner: 'group:sre' },
});

const decided = {
  ...approval,
  id: '11111111-2222-4333-8444-555555555555',
  title: 'Deploy api 1.1',
  status: 'approved' as const,
  decidedBy: 'Bob Li',
  decidedById: 'ou_bob',
  decidedAt: '2025-01-01T10:05:00.000Z',
};

function render(
  entity: Entity,
  api: ReturnType<typeof fakeApi>,
  element = <EntityImApprovalsCard />,
) {
  const signals = fakeSignals();
  return {
    signals,
    rendered: renderInTestApp(
      <TestApiProvider
        apis={[
          [imApprovalApiRef, api],
          [signalApiRef, signals.api],
        ]}
      >
        <EntityProvider entity={entity}>{element}</EntityProvider>
      </TestApiProvider>,
    ),
  };
}

describe("a component's approvals", () => {
  it('lists its repository’s pending approvals first, then the latest decided, linking each', async () => {
    const api = fakeApi({
      listApprovals: jest.fn(async (filter: { status?: string }) => ({
        items: filter.status === 'pending' ? [approval] : [decided, approval],
        totalCount: 2,
        offset: 0,
        limit: 50,
      })),
    });
    const { signals, rendered } = render(
      component({ 'github.com/project-slug': 'acme/api' }),
      api,
    );
    await rendered;

    const rows = (await screen.findAllByRole('link')).map(link =>
      link.closest('tr'),
    );
    expect(rows.map(row => within(row!).getByRole('link').textContent)).toEqual(
      ['Deploy api from acme/api', 'Deploy api 1.1'],
    );
    expect(screen.getByText('Deploy api 1.1').closest('a')).toHaveAttribute(
      'href',
      `/im-approval/approvals/${decided.id}`,
    );
    expect(
      within(rows[0]!).getByText(
        'Octo Cat (GitHub octocat, user:default/octocat)',
      ),
    ).toBeInTheDocument();
    expect(within(rows[1]!).getByText('Bob Li (ou_bob)')).toBeInTheDocument();
    expect(api.listApprovals).toHaveBeenCalledWith({
      repository: 'acme/api',
      status: 'pending',
      limit: 100,
    });

    const calls = api.listApprovals.mock.calls.length;
    act(() =>
      signals.send(APPROVAL_SIGNAL_CHANNEL, {
        changes: [{ id: decided.id, status: 'approved' }],
      }),
    );
    await waitFor(() =>
      expect(api.listApprovals).toHaveBeenCalledTimes(calls + 2),
    );
  });

  it('says which annotation is missing instead of asking for every approval', async () => {
    const api = fakeApi();
    await render(component({}), api, <EntityImApprovalsContent />).rendered;
    expect(
      (await screen.findAllByText(/github\.com\/project-slug/)).length,
    ).toBeGreaterThan(0);
    expect(api.listApprovals).not.toHaveBeenCalled();
  });
});
