import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  approval,
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
const changeById = (id: string, value: string, container: HTMLElement) =>
  fireEvent.change(container.querySelector(`#${id}`)!, { target: { value } });

describe('the templates page', () => {
  it('lists each template in four columns: name, description and where it is defined, IM app and form, approvers and how they decide, actions', async () => {
    const api = fakeApi({
      listTemplates: jest.fn(async () => [
        template,
        { ...template, name: 'hotfix', approverMode: 'all' as const },
      ]),
      listIntegrations: jest.fn(async () => [databaseIntegration]),
    });
    await renderPage(api, '/templates');
    const row = (await screen.findByRole('button', { name: 'deploy' })).closest(
      'tr',
    )!;
    const cells = within(row).getAllByRole('cell');
    expect(cells.map(cell => cell.textContent)).toEqual([
      'deployProduction deploymentsmanaged here',
      'feishu-opsform DEPLOY',
      'alice@example.comany one of them approves',
      'Use in a workflowSend test approvalDelete',
    ]);
    const hotfix = screen
      .getByRole('button', { name: 'hotfix' })
      .closest('tr')!;
    expect(hotfix).toHaveTextContent('all of them approve');
  });

  it('creates a template: loads the IM form’s fields, maps them, and sends what the schema accepts', async () => {
    const api = fakeApi({
      listTemplates: jest.fn(async () => []),
      listIntegrations: jest.fn(async () => [databaseIntegration]),
      describeForm: jest.fn(async () => ({
        integration: 'feishu-ops',
        form: 'DEPLOY',
        fields: [
          {
            id: 'widget_service',
            name: 'Service',
            type: 'input',
            required: true,
          },
          {
            id: 'widget_reason',
            name: 'Reason',
            type: 'textarea',
            required: true,
          },
        ],
      })),
      createTemplate: jest.fn(async () => template),
    });
    await renderPage(api, '/templates');
    fireEvent.click(
      await screen.findByRole('button', { name: 'Add template' }),
    );
    const dialog = await screen.findByRole('dialog');
    // The variables and what each means are listed beside the form.
    expect(within(dialog).getByText('${runUrl}')).toBeInTheDocument();
    expect(
      within(dialog).getByText('a link to the workflow run'),
    ).toBeInTheDocument();

    change(/^Name/, 'deploy', dialog);
    change(/Approval code/, 'DEPLOY', dialog);
    fireEvent.click(
      within(dialog).getByRole('button', { name: 'Load fields' }),
    );
    await waitFor(() =>
      expect(api.describeForm).toHaveBeenCalledWith('feishu-ops', 'DEPLOY'),
    );
    // One mapping row per IM field; the required one left out is named.
    await waitFor(() =>
      expect(dialog.querySelector('#mapping-text-1')).not.toBeNull(),
    );
    fireEvent.click(
      within(dialog).getByRole('button', { name: 'Remove field 2' }),
    );
    expect(
      within(dialog).getByText(
        'Required by the IM form but not mapped: Reason',
      ),
    ).toBeInTheDocument();
    changeById('mapping-text-0', '${vars.service}', dialog);

    // Without approvers the API's schema refuses, and nothing is sent.
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    expect(
      await within(dialog).findByText(/expected array to have >=1 items/),
    ).toBeInTheDocument();
    expect(api.createTemplate).not.toHaveBeenCalled();

    changeById(
      'template-approvers',
      'group:default/release-managers\nou_bob',
      dialog,
    );
    change(/Allowed repositories/, 'acme/*', dialog);
    fireEvent.click(
      within(dialog).getByLabelText(
        'The person who asks may approve their own request',
      ),
    );
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(api.createTemplate).toHaveBeenCalled());
    expect(api.createTemplate.mock.calls[0][0]).toEqual({
      name: 'deploy',
      description: undefined,
      integration: 'feishu-ops',
      form: 'DEPLOY',
      title: 'Approval for ${repository}',
      fields: { widget_service: '${vars.service}' },
      approvers: ['group:default/release-managers', 'ou_bob'],
      approverMode: 'any',
      allowApproverOverride: false,
      allowSelfApproval: true,
      defaultTimeout: '1h',
      maxTimeout: '7d',
      policy: {
        repositories: ['acme/*'],
        refs: undefined,
        environments: undefined,
      },
    });
  });

  it('adds users and groups from the catalog to the approvers', async () => {
    const api = fakeApi({
      listTemplates: jest.fn(async () => []),
      listIntegrations: jest.fn(async () => [databaseIntegration]),
    });
    const catalog = catalogApiMock({
      entities: [
        {
          apiVersion: 'backstage.io/v1alpha1',
          kind: 'User',
          metadata: { name: 'bob', namespace: 'default' },
          spec: { profile: { displayName: 'Bob Li' } },
        },
        {
          apiVersion: 'backstage.io/v1alpha1',
          kind: 'Group',
          metadata: { name: 'release-managers', namespace: 'default' },
          spec: { type: 'team' },
        },
        {
          apiVersion: 'backstage.io/v1alpha1',
          kind: 'Component',
          metadata: { name: 'api', namespace: 'default' },
          spec: {},
        },
      ],
    });
    await renderPage(api, '/templates', { catalog });
    fireEvent.click(
      await screen.findByRole('button', { name: 'Add template' }),
    );
    const dialog = await screen.findByRole('dialog');
    changeById('template-approvers', 'ou_oncall', dialog);
    const picker = within(dialog).getByLabelText(
      'Add a user or group from the catalog',
    );
    fireEvent.mouseDown(picker);
    fireEvent.change(picker, { target: { value: 'b' } });
    // Users and groups only: the component is not offered.
    expect(
      await screen.findByRole('option', { name: 'Bob Li (user:default/bob)' }),
    ).toBeInTheDocument();
    expect(screen.queryByRole('option', { name: /component/ })).toBeNull();
    fireEvent.click(
      screen.getByRole('option', { name: 'Bob Li (user:default/bob)' }),
    );
    expect(
      (dialog.querySelector('#template-approvers') as HTMLTextAreaElement)
        .value,
    ).toBe('ou_oncall\nuser:default/bob');
  });

  it('shows why the IM could not describe a form', async () => {
    const api = fakeApi({
      listTemplates: jest.fn(async () => [template]),
      listIntegrations: jest.fn(async () => [databaseIntegration]),
      describeForm: jest.fn(async () =>
        Promise.reject(
          new Error(
            'Feishu could not read approval definition "NOPE": not found',
          ),
        ),
      ),
    });
    await renderPage(api, '/templates');
    fireEvent.click(await screen.findByRole('button', { name: 'deploy' }));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByLabelText(/^Name/)).toBeDisabled();
    change(/Approval code/, 'NOPE', dialog);
    fireEvent.click(
      within(dialog).getByRole('button', { name: 'Load fields' }),
    );
    expect(
      await within(dialog).findByText(
        /could not read approval definition "NOPE"/,
      ),
    ).toBeInTheDocument();
  });

  it('sends a test approval with the variables the template uses and links to it', async () => {
    const api = fakeApi({
      listTemplates: jest.fn(async () => [template]),
      listIntegrations: jest.fn(async () => [databaseIntegration]),
      sendTestApproval: jest.fn(async () => approval),
    });
    await renderPage(api, '/templates');
    fireEvent.click(
      await screen.findByRole('button', { name: 'Send test approval' }),
    );
    const dialog = await screen.findByRole('dialog');
    fireEvent.change(within(dialog).getByRole('textbox'), {
      target: { value: 'billing' },
    });
    fireEvent.click(
      within(dialog).getByRole('button', { name: 'Send test approval' }),
    );
    await waitFor(() =>
      expect(api.sendTestApproval).toHaveBeenCalledWith('deploy', {
        variables: { service: 'billing' },
      }),
    );
    expect(
      await within(dialog).findByRole('link', {
        name: `approval ${approval.id}`,
      }),
    ).toHaveAttribute('href', `/approvals/${approval.id}`);
  });

  it('asks for every variable the template uses, spaced inside the braces or not', async () => {
    const api = fakeApi({
      listTemplates: jest.fn(async () => [
        {
          ...template,
          fields: {
            ...template.fields,
            widget_reason: '${ vars.reason } (${actor})',
          },
        },
      ]),
      listIntegrations: jest.fn(async () => [databaseIntegration]),
    });
    await renderPage(api, '/templates');
    fireEvent.click(
      await screen.findByRole('button', { name: 'Send test approval' }),
    );
    const dialog = await screen.findByRole('dialog');
    expect(
      within(dialog)
        .getAllByRole('textbox')
        .map(input => input.id),
    ).toEqual(['test-variable-service', 'test-variable-reason']);
  });

  it('shows app-config templates read-only', async () => {
    const api = fakeApi({
      listTemplates: jest.fn(async () => [
        { ...template, source: 'config' as const, editable: false },
      ]),
      listIntegrations: jest.fn(async () => [databaseIntegration]),
    });
    await renderPage(api, '/templates');
    expect(
      await screen.findByText('app-config (read-only)'),
    ).toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Delete' }),
    ).not.toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'deploy' }));
    const dialog = await screen.findByRole('dialog');
    expect(
      within(dialog).queryByRole('button', { name: 'Save' }),
    ).not.toBeInTheDocument();
    expect(dialog.querySelector('#template-approvers')).toBeDisabled();
  });

  it('explains a missing manage permission and loads nothing', async () => {
    const api = fakeApi();
    await renderPage(api, '/templates', {
      deny: ['im-approval.template.manage'],
    });
    expect(
      await screen.findByText(
        /lacks the im-approval\.template\.manage permission/,
      ),
    ).toBeInTheDocument();
    expect(api.listTemplates).not.toHaveBeenCalled();
  });
});
