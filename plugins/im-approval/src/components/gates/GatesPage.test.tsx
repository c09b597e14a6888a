import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { fakeApi, renderPage } from '../../__testUtils__/renderPage';

const SETUP = {
  app: {
    source: 'config' as const,
    editable: false,
    appId: '424242',
    apiBaseUrl: 'https://api.github.com',
  },
  appEditable: false,
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
      source: 'config' as const,
      editable: false,
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
        app: null,
        appEditable: false,
        gates: [],
        deliveries: [],
      })),
    });
    await renderPage(api, '/gates');
    expect(
      await screen.findByText(
        /Not configured: set imApproval.github.app in app-config \(or imApproval.secretsKey/,
      ),
    ).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Test webhook' })).toBeDisabled();
  });

  it('saves a GitHub App here: checks the form first, and sends the key and secret once', async () => {
    const saveGithubApp = jest.fn(async () => ({
      source: 'database' as const,
      editable: true,
      appId: '77',
      apiBaseUrl: 'https://api.github.com',
    }));
    const getGithubSetup = jest.fn(async () => ({
      ...SETUP,
      app: null,
      appEditable: true,
      gates: [],
      deliveries: [],
    }));
    await renderPage(fakeApi({ getGithubSetup, saveGithubApp }), '/gates');
    fireEvent.change(await screen.findByLabelText('App ID'), {
      target: { value: '77' },
    });
    fireEvent.change(screen.getByLabelText('Private key'), {
      target: { value: 'not a key' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Save GitHub App' }));
    expect(
      await screen.findByText(/expected the App’s private key/),
    ).toBeInTheDocument();
    expect(saveGithubApp).not.toHaveBeenCalled();

    const pem =
      '-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----';
    fireEvent.change(screen.getByLabelText('Private key'), {
      target: { value: pem },
    });
    fireEvent.change(screen.getByLabelText('Webhook secret'), {
      target: { value: 's3cret' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Save GitHub App' }));
    await waitFor(() =>
      expect(saveGithubApp).toHaveBeenCalledWith({
        appId: '77',
        apiBaseUrl: 'https://api.github.com',
        privateKey: pem,
        webhookSecret: 's3cret',
      }),
    );
    await waitFor(() => expect(getGithubSetup).toHaveBeenCalledTimes(2));
  });

  it('adds a gate from a template, with its variables', async () => {
    const createGate = jest.fn(async (gate: object) => ({
      ...gate,
      source: 'database',
      editable: true,
    }));
    const api = fakeApi({
      getGithubSetup: jest.fn(async () => SETUP),
      listTemplates: jest.fn(async () => [
        { name: 'deploy', source: 'config', editable: false },
      ]),
      createGate,
    });
    await renderPage(api, '/gates');
    const add = await screen.findByRole('button', { name: 'Add gate' });
    await waitFor(() => expect(add).toBeEnabled());
    fireEvent.click(add);
    const dialog = await screen.findByRole('dialog');
    fireEvent.change(within(dialog).getByLabelText('Name'), {
      target: { value: 'staging' },
    });
    fireEvent.change(within(dialog).getByLabelText('Environments'), {
      target: { value: 'staging, stage-*' },
    });
    fireEvent.change(within(dialog).getByLabelText('Variables'), {
      target: { value: 'service=${repository}\nreason = held by GitHub' },
    });
    fireEvent.change(within(dialog).getByLabelText('Timeout'), {
      target: { value: '4h' },
    });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(createGate).toHaveBeenCalledWith({
        name: 'staging',
        environments: ['staging', 'stage-*'],
        template: 'deploy',
        variables: { service: '${repository}', reason: 'held by GitHub' },
        timeout: '4h',
      }),
    );
  });
});
