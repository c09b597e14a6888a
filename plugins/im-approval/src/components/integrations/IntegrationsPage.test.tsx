import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import type {
  IntegrationHealth,
  IntegrationView,
} from '@im-approval/plugin-im-approval-common';
import {
  BASE_URL,
  configIntegration,
  databaseIntegration,
  fakeApi,
  renderPage,
  template,
} from '../../__testUtils__/renderPage';

const change = (
  label: RegExp | string,
  value: string,
  container: HTMLElement,
) =>
  fireEvent.change(within(container).getByLabelText(label), {
    target: { value },
  });

describe('the IM apps page', () => {
  it('shows an app from app-config read-only, with its callback URL and the console steps', async () => {
    const api = fakeApi({
      listIntegrations: jest.fn(async () => [configIntegration]),
    });
    await renderPage(api, '/im-apps');

    expect(
      await screen.findByText('app-config (read-only)'),
    ).toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Delete' }),
    ).not.toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Feishu main' }));
    const dialog = await screen.findByRole('dialog');
    expect(
      within(dialog).getByText(/defined in app-config and changes only there/),
    ).toBeInTheDocument();
    expect(within(dialog).getByLabelText(/App ID/)).toBeDisabled();
    expect(
      within(dialog).queryByRole('button', { name: 'Save' }),
    ).not.toBeInTheDocument();
    expect(await within(dialog).findByTestId('callback-url')).toHaveTextContent(
      `${BASE_URL}/callbacks/feishu/feishu-main`,
    );
    expect(
      within(dialog).getByText(/approval task status change/),
    ).toBeInTheDocument();
  });

  it('creates an app: checks the form first, then shows the callback URL and tests the connection', async () => {
    const created = {
      ...databaseIntegration,
      id: 'feishu-new',
      title: undefined,
      callbackPath: '/callbacks/feishu/feishu-new',
    };
    const api = fakeApi({
      listIntegrations: jest.fn(async () => []),
      createIntegration: jest.fn(async () => created),
      testIntegration: jest.fn(async () => ({
        ok: false as const,
        problem: 'credentials',
        message:
          'Invalid app secret for app cli_new: copy the App Secret again',
        code: 10014,
        durationMs: 12,
      })),
    });
    await renderPage(api, '/im-apps');
    fireEvent.click(await screen.findByRole('button', { name: 'Add IM app' }));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByText(/Save the app first/)).toBeInTheDocument();

    change(/^ID/, 'feishu-new', dialog);
    change(/App ID/, 'cli_new', dialog);
    change(/Initiator/, 'bot@example.com', dialog);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    // The API's own schema names the missing secrets; nothing is sent.
    expect(
      await within(dialog).findAllByText(/^App Secret is required$/),
    ).not.toHaveLength(0);
    expect(api.createIntegration).not.toHaveBeenCalled();

    change(/App Secret/, 's3cret', dialog);
    change(/Verification Token/, 'v-token', dialog);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    // Callbacks need the Encrypt Key, as the API says.
    expect(
      await within(dialog).findByText(
        /required when connectionMode is callback: without it Feishu neither encrypts nor signs/,
      ),
    ).toBeInTheDocument();
    expect(api.createIntegration).not.toHaveBeenCalled();

    change(/Encrypt Key/, 'e-key', dialog);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    await waitFor(() =>
      expect(api.createIntegration).toHaveBeenCalledWith({
        id: 'feishu-new',
        provider: 'feishu',
        connectionMode: 'callback',
        domain: 'feishu',
        appId: 'cli_new',
        appSecret: 's3cret',
        verificationToken: 'v-token',
        encryptKey: 'e-key',
        initiator: 'bot@example.com',
      }),
    );
    expect(await within(dialog).findByTestId('callback-url')).toHaveTextContent(
      `${BASE_URL}/callbacks/feishu/feishu-new`,
    );

    fireEvent.click(
      within(dialog).getByRole('button', { name: 'Test connection' }),
    );
    expect(
      await within(dialog).findByText(
        /Invalid app secret for app cli_new: copy the App Secret again \(IM error 10014\)/,
      ),
    ).toBeInTheDocument();
    expect(api.testIntegration).toHaveBeenCalledWith('feishu-new');
  });

  const key43 = 'a'.repeat(43);
  it.each([
    [
      'DingTalk',
      'https://aflow.dingtalk.com/dingtalk/mobile/homepage.htm?corpid=ding1&procInstId={instanceId}#approval',
      {
        '^ID': 'dingtalk-new',
        AppKey: 'dingkey',
        AppSecret: 's3cret',
        'Callback token': 't',
        aes_key: key43,
        Initiator: 'bot',
      },
    ],
    [
      'WeCom',
      'https://portal.example/wecom/{instanceId}',
      {
        '^ID': 'wecom-new',
        'Corp ID': 'ww1',
        AgentID: '1000002',
        '^Secret': 's3cret',
        '^Token': 't',
        EncodingAESKey: key43,
        Initiator: 'bot',
      },
    ],
  ])(
    'offers %s apps the instance link approvals show, and sends it',
    async (label, instanceUrl, fields) => {
      const api = fakeApi({
        listIntegrations: jest.fn(async () => []),
        createIntegration: jest.fn(async () => databaseIntegration),
      });
      await renderPage(api, '/im-apps');
      fireEvent.click(
        await screen.findByRole('button', { name: 'Add IM app' }),
      );
      const dialog = await screen.findByRole('dialog');
      fireEvent.mouseDown(
        within(dialog).getByRole('button', { name: /^IM Feishu/ }),
      );
      fireEvent.click(await screen.findByRole('option', { name: label }));
      for (const [field, value] of Object.entries(fields))
        change(new RegExp(field), value, dialog);

      change(/Instance link/, 'https://portal.example/without-the-id', dialog);
      fireEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
      expect(
        await within(dialog).findByText(
          'Instance link must contain {instanceId} where the instance id goes',
        ),
      ).toBeInTheDocument();
      expect(api.createIntegration).not.toHaveBeenCalled();

      change(/Instance link/, instanceUrl, dialog);
      fireEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
      await waitFor(() =>
        expect(api.createIntegration).toHaveBeenCalledWith(
          expect.objectContaining({ instanceUrl }),
        ),
      );
    },
  );

  it('keeps stored secrets when they are left empty on edit', async () => {
    const api = fakeApi({
      listIntegrations: jest.fn(async () => [databaseIntegration]),
      updateIntegration: jest.fn(async () => databaseIntegration),
    });
    await renderPage(api, '/im-apps');
    fireEvent.click(await screen.findByRole('button', { name: 'Feishu ops' }));
    const dialog = await screen.findByRole('dialog');
    expect(
      within(dialog).getAllByText('Set — leave empty to keep it.'),
    ).toHaveLength(2);
    expect(within(dialog).getByLabelText(/App Secret/)).toHaveValue('');

    change(/App ID/, 'cli_ops2', dialog);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(api.updateIntegration).toHaveBeenCalled());
    const [id, body] = api.updateIntegration.mock.calls[0];
    expect(id).toBe('feishu-ops');
    expect(body).toMatchObject({ id: 'feishu-ops', appId: 'cli_ops2' });
    expect(body).not.toHaveProperty('appSecret');
    expect(body).not.toHaveProperty('verificationToken');
  });

  it('deletes an app after asking, and shows why the backend refused', async () => {
    const api = fakeApi({
      listIntegrations: jest.fn(async () => [databaseIntegration]),
      deleteIntegration: jest.fn(async () =>
        Promise.reject(
          new Error('Integration "feishu-ops" is used by templates: deploy'),
        ),
      ),
    });
    await renderPage(api, '/im-apps');
    fireEvent.click(await screen.findByRole('button', { name: 'Delete' }));
    const dialog = await screen.findByRole('dialog');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Delete' }));
    expect(
      await within(dialog).findByText(/is used by templates: deploy/),
    ).toBeInTheDocument();
    expect(api.deleteIntegration).toHaveBeenCalledWith('feishu-ops');
  });

  it('disables adding apps when the backend has no secrets key', async () => {
    const api = fakeApi({
      listIntegrations: jest.fn(async () => [configIntegration]),
    });
    api.getCapabilities.mockResolvedValue({
      manageIntegrations: true,
      manageTemplates: true,
      readApprovals: true,
      decideApprovals: true,
      databaseSettings: false,
    });
    await renderPage(api, '/im-apps');
    const add = await screen.findByRole('button', { name: 'Add IM app' });
    expect(add).toBeDisabled();
    // The reason, and what to configure, once the backend has said it has no key.
    fireEvent.mouseOver(add.parentElement!);
    expect(await screen.findByRole('tooltip')).toHaveTextContent(
      /no secrets key configured \(imApproval\.secretsKey\)/,
    );
    expect(api.getCapabilities).toHaveBeenCalled();
  });

  it('explains a missing manage permission and loads nothing', async () => {
    const api = fakeApi();
    await renderPage(api, '/im-apps', {
      deny: ['im-approval.integration.manage'],
    });
    expect(
      await screen.findByText(
        /lacks the im-approval\.integration\.manage permission/,
      ),
    ).toBeInTheDocument();
    expect(api.listIntegrations).not.toHaveBeenCalled();
    expect(
      screen.queryByRole('button', { name: 'Add IM app' }),
    ).not.toBeInTheDocument();
  });
});

describe('the health of each IM app', () => {
  const today = (hours: number, minutes: number) => {
    const at = new Date();
    at.setHours(hours, minutes, 0, 0);
    return at.toISOString();
  };
  const clock = (iso: string) =>
    new Date(iso).toLocaleTimeString([], {
      hour: '2-digit',
      minute: '2-digit',
    });
  const stream: IntegrationView = {
    ...(databaseIntegration as Extract<
      IntegrationView,
      { provider: 'feishu' }
    >),
    id: 'feishu-lc',
    title: 'Feishu long connection',
    connectionMode: 'long-connection',
  };

  function pageWith(
    views: IntegrationView[],
    items: IntegrationHealth[],
    overrides: Parameters<typeof fakeApi>[0] = {},
  ) {
    const api = fakeApi({
      listIntegrations: jest.fn(async () => views),
      listIntegrationHealth: jest.fn(async () => ({
        scope: 'replica' as const,
        observedAt: new Date().toISOString(),
        items,
      })),
      listTemplates: jest.fn(async () => []),
      ...overrides,
    });
    return { api, rendered: renderPage(api, '/im-apps') };
  }

  it('shows a held connection as connected, with its last event, and says whose view it is', async () => {
    const lastEventAt = today(11, 58);
    const { rendered } = pageWith(
      [stream],
      [
        {
          id: 'feishu-lc',
          connectionMode: 'long-connection',
          connection: 'connected',
          since: today(9, 0),
          lastEventAt,
        },
      ],
    );
    await rendered;
    expect(await screen.findByTestId('connection-feishu-lc')).toHaveTextContent(
      /^Connected$/,
    );
    expect(screen.getByTestId('last-event-feishu-lc')).toHaveTextContent(
      clock(lastEventAt),
    );
    expect(screen.getByTestId('last-error-feishu-lc')).toHaveTextContent(
      'None',
    );
    expect(
      screen.getByText(/as seen by the backend replica that answered/),
    ).toBeInTheDocument();
  });

  it('shows a dropped connection as reconnecting since when, with the last error', async () => {
    const since = today(12, 3);
    const { rendered } = pageWith(
      [stream],
      [
        {
          id: 'feishu-lc',
          connectionMode: 'long-connection',
          connection: 'reconnecting',
          since,
          lastError: {
            message: 'the long connection dropped',
            at: since,
          },
        },
      ],
    );
    await rendered;
    expect(await screen.findByTestId('connection-feishu-lc')).toHaveTextContent(
      `Reconnecting since ${clock(since)}`,
    );
    expect(screen.getByTestId('last-error-feishu-lc')).toHaveTextContent(
      `${clock(since)}: the long connection dropped`,
    );
    expect(screen.getByTestId('last-event-feishu-lc')).toHaveTextContent(
      'None yet',
    );
  });

  it('says a callback app needs no connection, and still shows its last event', async () => {
    const lastEventAt = today(8, 15);
    const { rendered } = pageWith(
      [databaseIntegration],
      [
        {
          id: 'feishu-ops',
          connectionMode: 'callback',
          connection: 'not-needed',
          lastEventAt,
        },
      ],
    );
    await rendered;
    expect(
      await screen.findByTestId('connection-feishu-ops'),
    ).toHaveTextContent('Not needed (callback URL)');
    expect(screen.getByTestId('last-event-feishu-ops')).toHaveTextContent(
      clock(lastEventAt),
    );
  });

  it('shows an app that never opened as connecting, with why it failed', async () => {
    const { rendered } = pageWith(
      [stream],
      [
        {
          id: 'feishu-lc',
          connectionMode: 'long-connection',
          connection: 'connecting',
          since: today(10, 30),
          lastError: {
            message:
              'the SDK gave up reconnecting: invalid app secret for cli_ops',
            at: today(10, 31),
          },
        },
      ],
    );
    await rendered;
    expect(await screen.findByTestId('connection-feishu-lc')).toHaveTextContent(
      `Connecting since ${clock(today(10, 30))}`,
    );
    expect(screen.getByTestId('last-error-feishu-lc')).toHaveTextContent(
      'invalid app secret for cli_ops',
    );
  });

  it('shows an app whose stored settings cannot be read as not connecting, with why', async () => {
    const { rendered } = pageWith(
      [stream],
      [
        {
          id: 'feishu-lc',
          connectionMode: 'long-connection',
          connection: 'unavailable',
          lastError: {
            message:
              'Integration "feishu-lc" secret appSecret: unsupported state; enter the appSecret again',
            at: today(10, 31),
          },
        },
      ],
    );
    await rendered;
    expect(await screen.findByTestId('connection-feishu-lc')).toHaveTextContent(
      'Not connecting: settings unreadable',
    );
    expect(screen.getByTestId('last-error-feishu-lc')).toHaveTextContent(
      'enter the appSecret again',
    );
  });

  it('tests the connection from the row', async () => {
    const { api, rendered } = pageWith([databaseIntegration], [], {
      testIntegration: jest.fn(async () => ({
        ok: true as const,
        message: 'Got a tenant access token for app cli_ops',
        durationMs: 9,
      })),
    });
    await rendered;
    fireEvent.click(
      await screen.findByRole('button', { name: 'Test connection' }),
    );
    expect(
      await screen.findByText('Got a tenant access token for app cli_ops'),
    ).toBeInTheDocument();
    expect(api.testIntegration).toHaveBeenCalledWith('feishu-ops');
  });

  it('says what deleting a held-connection app does, and deletes it', async () => {
    const { api, rendered } = pageWith([stream], [], {
      deleteIntegration: jest.fn(async () => undefined),
    });
    await rendered;
    fireEvent.click(await screen.findByRole('button', { name: 'Delete' }));
    const dialog = await screen.findByRole('dialog');
    expect(
      within(dialog).getByText(
        /closes the app's long connection on every backend replica/,
      ),
    ).toBeInTheDocument();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Delete' }));
    await waitFor(() =>
      expect(api.deleteIntegration).toHaveBeenCalledWith('feishu-lc'),
    );
    await waitFor(() =>
      expect(screen.queryByRole('dialog')).not.toBeInTheDocument(),
    );
  });

  it('disables Delete, with the reason, while templates use the app', async () => {
    const { api, rendered } = pageWith([databaseIntegration], [], {
      listTemplates: jest.fn(async () => [
        template,
        { ...template, name: 'rollback' },
        { ...template, name: 'other-app', integration: 'feishu-main' },
      ]),
    });
    await rendered;
    await waitFor(() => expect(api.listTemplates).toHaveBeenCalled());
    fireEvent.click(await screen.findByRole('button', { name: 'Delete' }));
    const dialog = await screen.findByRole('dialog');
    const remove = within(dialog).getByRole('button', { name: 'Delete' });
    await waitFor(() => expect(remove).toBeDisabled());
    expect(
      within(dialog).getByText(
        'Templates "deploy", "rollback" use this app: change or delete them first.',
      ),
    ).toBeInTheDocument();
    expect(
      within(dialog).getByText(
        /Calls from the IM to its callback URL are refused/,
      ),
    ).toBeInTheDocument();
    fireEvent.click(remove);
    expect(api.deleteIntegration).not.toHaveBeenCalled();
  });
});
