import { ResponseError } from '@backstage/errors';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import type { IntegrationView } from '@im-approval/plugin-im-approval-common';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { databaseIntegration, fakeApi } from '../../__testUtils__/renderPage';
import { imApprovalApiRef, type ImApprovalApi } from '../../api/ImApprovalApi';
import { IntegrationDialog } from './IntegrationDialog';

async function openDialog(
  api: jest.Mocked<ImApprovalApi>,
  existing?: IntegrationView,
) {
  await renderInTestApp(
    <TestApiProvider apis={[[imApprovalApiRef, api]]}>
      <IntegrationDialog
        existing={existing}
        readOnly={false}
        onSaved={() => {}}
        onClose={() => {}}
      />
    </TestApiProvider>,
  );
  return screen.findByRole('dialog');
}

const type = (dialog: HTMLElement, label: RegExp, value: string) =>
  fireEvent.change(within(dialog).getByLabelText(label), {
    target: { value },
  });

async function pick(dialog: HTMLElement, select: RegExp, option: string) {
  fireEvent.mouseDown(within(dialog).getByRole('button', { name: select }));
  fireEvent.click(await screen.findByRole('option', { name: option }));
}

/** The labels of the dialog's inputs, in the order a person meets them. */
const labels = (dialog: HTMLElement) =>
  Array.from(dialog.querySelectorAll('label')).map(label =>
    (label.textContent ?? '').replace(/\s*\*$/, '').trim(),
  );

const COMMON = ['IM', 'Connection mode', 'ID', 'Title'];

describe('the IM app dialog', () => {
  it.each([
    [
      'Feishu / Lark',
      'Event request URL',
      ['App ID', 'App Secret', 'Verification Token', 'Encrypt Key'],
      [],
    ],
    [
      'Feishu / Lark',
      'Long connection',
      ['App ID', 'App Secret'],
      ['Verification Token', 'Encrypt Key'],
    ],
    [
      'Feishu / Lark',
      'Polling',
      ['App ID', 'App Secret'],
      ['Verification Token', 'Encrypt Key'],
    ],
    [
      'DingTalk',
      'HTTP push to the request URL',
      [
        'AppKey (Client ID)',
        'AppSecret (Client Secret)',
        'Callback token',
        'aes_key',
      ],
      [],
    ],
    [
      'DingTalk',
      'Stream mode',
      ['AppKey (Client ID)', 'AppSecret (Client Secret)', 'AgentId'],
      ['Callback token', 'aes_key'],
    ],
    [
      'DingTalk',
      'Polling',
      ['AppKey (Client ID)', 'AppSecret (Client Secret)'],
      ['Callback token', 'aes_key'],
    ],
    [
      'WeCom',
      'Receive messages at the callback URL',
      ['Corp ID', 'AgentID', 'Secret', 'Token', 'EncodingAESKey'],
      [],
    ],
    [
      'WeCom',
      'Polling',
      ['Corp ID', 'AgentID', 'Secret'],
      ['Token', 'EncodingAESKey'],
    ],
  ])(
    '%s in mode "%s" asks for the mode first, then only the fields it needs',
    async (im, mode, shown, hidden) => {
      const dialog = await openDialog(fakeApi());
      if (im !== 'Feishu / Lark') await pick(dialog, /^IM /, im);
      await pick(dialog, /^Connection mode /, mode);

      const asked = labels(dialog);
      expect(asked.slice(0, COMMON.length)).toEqual(COMMON);
      expect(asked).toEqual(expect.arrayContaining([...shown, 'Initiator']));
      for (const label of hidden) expect(asked).not.toContain(label);
      // Only callbacks need a URL pasted into the IM's console.
      expect(within(dialog).queryByText(/Save the app first/) !== null).toBe(
        hidden.length === 0,
      );
    },
  );

  it('says what is wrong in words under each field, and clears a message once its field changes', async () => {
    const api = fakeApi({ createIntegration: jest.fn() });
    const dialog = await openDialog(api);
    await pick(dialog, /^IM /, 'WeCom');
    await pick(dialog, /^Connection mode /, 'Polling');
    type(dialog, /^AgentID/, 'abc');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create' }));

    // Each message is the field's description, as a screen reader announces it.
    expect(
      within(dialog).getByLabelText(/^AgentID/),
    ).toHaveAccessibleDescription('AgentID must be a number');
    expect(
      within(dialog).getByLabelText(/^Corp ID/),
    ).toHaveAccessibleDescription('Corp ID is required');
    expect(within(dialog).getByLabelText(/^ID/)).toHaveAccessibleDescription(
      'ID is required',
    );
    expect(within(dialog).getByText('Secret is required')).toBeInTheDocument();
    expect(within(dialog).queryByText(/expected|received|NaN/)).toBeNull();
    expect(api.createIntegration).not.toHaveBeenCalled();

    type(dialog, /^AgentID/, '1000002');
    expect(within(dialog).queryByText('AgentID must be a number')).toBeNull();
    expect(
      within(dialog).getByLabelText(/^AgentID/),
    ).toHaveAccessibleDescription('The self-built app’s AgentID.');
    expect(within(dialog).getByText('Corp ID is required')).toBeInTheDocument();

    type(dialog, /^ID/, 'Not An Id');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    expect(
      within(dialog).getByText(
        'ID must be lower-case letters, digits and dashes (at most 64, starting with a letter or digit)',
      ),
    ).toBeInTheDocument();
  });

  it('names every callback secret at once, with why callbacks need it', async () => {
    const dialog = await openDialog(fakeApi());
    type(dialog, /^ID/, 'feishu-new');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    expect(within(dialog).getByText('App ID is required')).toBeInTheDocument();
    expect(
      within(dialog).getByText(
        /^Verification Token is required when connectionMode is callback: Feishu sends it in every callback/,
      ),
    ).toBeInTheDocument();
    expect(
      within(dialog).getByText(
        /^Encrypt Key is required when connectionMode is callback: without it Feishu neither encrypts nor signs/,
      ),
    ).toBeInTheDocument();

    // Another mode needs neither; their messages go with their fields.
    await pick(dialog, /^Connection mode /, 'Long connection');
    expect(within(dialog).queryByText(/Encrypt Key/)).toBeNull();
    expect(within(dialog).getByText('App ID is required')).toBeInTheDocument();
  });

  it('tests the values as typed before saving, and shows the answer beside the button', async () => {
    const api = fakeApi({
      testIntegrationSettings: jest
        .fn()
        .mockResolvedValueOnce({
          ok: false,
          problem: 'credentials',
          message:
            'Invalid app secret for app cli_new: copy the App Secret again',
          code: 10014,
          durationMs: 9,
        })
        .mockResolvedValueOnce({
          ok: true,
          message: "Connected: feishu accepted the app's credentials",
          durationMs: 12,
        }),
    });
    const dialog = await openDialog(api);
    await pick(dialog, /^Connection mode /, 'Long connection');
    const testButton = within(dialog).getByRole('button', {
      name: 'Test connection',
    });

    // A form with problems is not sent; they are shown under the fields, and beside the button.
    fireEvent.click(testButton);
    expect(
      await within(dialog).findByText('App ID is required'),
    ).toBeInTheDocument();
    expect(testButton.parentElement).toHaveTextContent(
      'Not tested: some fields need correcting first (see the messages under them).',
    );
    expect(api.testIntegrationSettings).not.toHaveBeenCalled();

    type(dialog, /^ID/, 'feishu-new');
    type(dialog, /^App ID/, 'cli_new');
    type(dialog, /^App Secret/, 'wrong');
    type(dialog, /^Initiator/, 'bot@example.com');
    fireEvent.click(
      within(dialog).getByRole('button', { name: 'Test connection' }),
    );
    const refused = await within(dialog).findByText(
      'Invalid app secret for app cli_new: copy the App Secret again (IM error 10014)',
    );
    expect(api.testIntegrationSettings).toHaveBeenCalledWith({
      id: 'feishu-new',
      provider: 'feishu',
      connectionMode: 'long-connection',
      domain: 'feishu',
      appId: 'cli_new',
      appSecret: 'wrong',
      initiator: 'bot@example.com',
    });
    const beside = within(dialog).getByRole('button', {
      name: 'Test connection',
    }).parentElement!;
    expect(beside).toContainElement(refused);

    // The answer was about other values: it goes as soon as one changes.
    type(dialog, /^App Secret/, 's3cret');
    expect(within(dialog).queryByText(/Invalid app secret/)).toBeNull();
    fireEvent.click(
      within(dialog).getByRole('button', { name: 'Test connection' }),
    );
    expect(
      await within(dialog).findByText(
        "Connected: feishu accepted the app's credentials",
      ),
    ).toBeInTheDocument();
    expect(api.testIntegrationSettings).toHaveBeenLastCalledWith(
      expect.objectContaining({ appSecret: 's3cret' }),
    );
    expect(api.createIntegration).not.toHaveBeenCalled();
  });

  it('tests a saved app as saved until it is edited, then as edited with its stored secrets kept', async () => {
    const connected = {
      ok: true as const,
      message: "Connected: feishu accepted the app's credentials",
      durationMs: 5,
    };
    const api = fakeApi({
      testIntegration: jest.fn(async () => connected),
      testIntegrationSettings: jest.fn(async () => connected),
    });
    const allSet: IntegrationView = {
      id: 'feishu-ops',
      provider: 'feishu',
      appId: 'cli_ops',
      initiator: 'release-bot@example.com',
      connectionMode: 'callback',
      secrets: { appSecret: true, verificationToken: true, encryptKey: true },
      source: 'database',
      editable: true,
      callbackPath: '/callbacks/feishu/feishu-ops',
    };
    const dialog = await openDialog(api, allSet);
    expect(
      within(dialog).getAllByText('Set — leave empty to keep it.'),
    ).toHaveLength(3);
    fireEvent.click(
      within(dialog).getByRole('button', { name: 'Test connection' }),
    );
    await waitFor(() =>
      expect(api.testIntegration).toHaveBeenCalledWith('feishu-ops'),
    );

    type(dialog, /^App ID/, 'cli_ops2');
    fireEvent.click(
      within(dialog).getByRole('button', { name: 'Test connection' }),
    );
    await waitFor(() => expect(api.testIntegrationSettings).toHaveBeenCalled());
    const [sent] = api.testIntegrationSettings.mock.calls[0];
    expect(sent).toMatchObject({ id: 'feishu-ops', appId: 'cli_ops2' });
    for (const secret of ['appSecret', 'verificationToken', 'encryptKey'])
      expect(sent).not.toHaveProperty(secret);
    expect(api.testIntegration).toHaveBeenCalledTimes(1);
  });

  it("shows the backend's refusal under the fields it names", async () => {
    const message =
      'body.encryptKey: is required when connectionMode is callback: without it Feishu neither encrypts nor signs callbacks; set the Encrypt Key from Events and callbacks → Encryption strategy (or use long-connection or poll)';
    const api = fakeApi({
      updateIntegration: jest.fn(async () => {
        throw await ResponseError.fromResponse(
          new Response(
            JSON.stringify({
              error: { name: 'InputError', message },
              response: { statusCode: 400 },
            }),
            { status: 400, headers: { 'content-type': 'application/json' } },
          ),
        );
      }),
    });
    const dialog = await openDialog(api, databaseIntegration);
    type(dialog, /^App ID/, 'cli_ops2');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(
        within(dialog).getByLabelText(/^Encrypt Key/),
      ).toHaveAccessibleDescription(
        'Encrypt Key is required when connectionMode is callback: without it Feishu neither encrypts nor signs callbacks; set the Encrypt Key from Events and callbacks → Encryption strategy (or use long-connection or poll)',
      ),
    );
    expect(within(dialog).queryByText(/body\./)).toBeNull();
  });
});
