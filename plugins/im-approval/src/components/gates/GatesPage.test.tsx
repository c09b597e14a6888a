import { fireEvent, screen, waitFor } from '@testing-library/react';
import { fakeApi, renderPage } from '../../__testUtils__/renderPage';

const SETUP = {
  configured: true,
  appId: '424242',
  apiBaseUrl: 'https://api.github.com',
  webhookUrl: 'https://backstage.example.com/api/im-approval/github/webhook',
  permissions: [
    { name: 'Deployments', access: 'Read and write' },
    { name: 'Actions', access: 'Read-only' },
  ],
  events: ['Deployment protection rule', 'Workflow run', 'Workflow job'],
  gates: [
    {
      name: 'production',
      environments: ['production', 'prod-*'],
      repositories: ['acme/*'],
      template: 'deploy',
      variables: {},
      timeout: 7200,
    },
  ],
  deliveries: [
    {
      id: 'd-2',
      event: 'deployment_protection_rule',
      action: 'requested',
      receivedAt: '2026-12-01T10:00:02.000Z',
      outcome: 'accepted',
      message: 'approval 1 for run 77',
    },
    {
      id: 'd-1',
      event: 'ping',
      action: null,
      receivedAt: '2026-12-01T10:00:01.000Z',
      outcome: 'refused',
      message:
        'X-Hub-Signature-256 does not match the body with the configured webhook secret',
    },
  ],
};

describe('the deployment gates page', () => {
  it('shows where to point the GitHub App, the gates, and why a delivery was refused', async () => {
    const api = fakeApi({ getGithubSetup: jest.fn(async () => SETUP) });
    await renderPage(api, '/gates');

    expect(await screen.findByTestId('webhook-url')).toHaveTextContent(
      SETUP.webhookUrl,
    );
    expect(
      screen.getByText(/Deployments: Read and write; Actions: Read-only/),
    ).toBeInTheDocument();
    expect(
      screen.getByText(
        /Deployment protection rule, Workflow run, Workflow job/,
      ),
    ).toBeInTheDocument();
    expect(screen.getByText('production, prod-*')).toBeInTheDocument();
    expect(screen.getByText('2h')).toBeInTheDocument();
    expect(screen.getByText('refused')).toBeInTheDocument();
    expect(
      screen.getByText(
        /does not match the body with the configured webhook secret/,
      ),
    ).toBeInTheDocument();
  });

  it('reads the deliveries again on "Test webhook"', async () => {
    const getGithubSetup = jest
      .fn()
      .mockResolvedValueOnce({ ...SETUP, deliveries: [] })
      .mockResolvedValueOnce(SETUP);
    await renderPage(fakeApi({ getGithubSetup }), '/gates');
    expect(
      await screen.findByText('Nothing received yet.'),
    ).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Test webhook' }));
    await waitFor(() => expect(getGithubSetup).toHaveBeenCalledTimes(2));
    expect(
      await screen.findByText('approval 1 for run 77'),
    ).toBeInTheDocument();
  });

  it('says how to turn gates on when the App is not configured', async () => {
    const api = fakeApi({
      getGithubSetup: jest.fn(async () => ({
        ...SETUP,
        configured: false,
        appId: null,
        gates: [],
        deliveries: [],
      })),
    });
    await renderPage(api, '/gates');
    expect(
      await screen.findByText(/Not configured: set imApproval.github.app/),
    ).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Test webhook' })).toBeDisabled();
  });
});
