import { ResponseError } from '@backstage/errors';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import type { TemplateView } from '@im-approval/plugin-im-approval-common';
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
    changeById('template-cc', 'ou_carol', dialog);
    changeById('template-remind-after', '2h', dialog);
    changeById('template-escalate-after', '4h', dialog);
    changeById('template-escalate-to', 'group:default/sre', dialog);
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
      cc: ['ou_carol'],
      remindAfter: '2h',
      escalateAfter: '4h',
      escalateTo: ['group:default/sre'],
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

  it('creates a template whose form the backend makes in the IM, in two stages, saying what it will make', async () => {
    const api = fakeApi({
      listTemplates: jest.fn(async () => []),
      listIntegrations: jest.fn(async () => [databaseIntegration]),
      createTemplate: jest.fn(async () => template),
    });
    await renderPage(api, '/templates');
    fireEvent.click(
      await screen.findByRole('button', { name: 'Add template' }),
    );
    const dialog = await screen.findByRole('dialog');
    change(/^Name/, 'release', dialog);
    fireEvent.click(within(dialog).getByLabelText('Create the form in the IM'));
    // No form id to type nor fields to load: the backend makes the form.
    expect(dialog.querySelector('#template-form-id')).toBeNull();
    expect(
      within(dialog).queryByRole('button', { name: 'Load fields' }),
    ).toBeNull();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Add field' }));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Add field' }));
    // The mapping's fields are the labels of the fields to make.
    expect(
      within(dialog).getAllByLabelText('Label in the IM form'),
    ).toHaveLength(2);
    changeById('mapping-field-0', 'Service', dialog);
    changeById('mapping-field-1', 'Reason', dialog);
    changeById('mapping-text-0', '${vars.service}', dialog);
    changeById('mapping-text-1', '${vars.reason}', dialog);
    changeById('template-approvers', 'ou_lead', dialog);
    expect(dialog).toHaveTextContent(
      'the backend creates a form in Feishu / Lark with 2 text fields, labelled as the field mapping names them (Service, Reason), a Context field, unless the mapping has one, telling approvers who asked, the repository, ref, commit, run and what changes since the last approved request, and one approver node: Stage 1 (any one of them approves)',
    );

    // Several stages: the approvers typed so far become the first, a second is added empty.
    fireEvent.click(within(dialog).getByLabelText('Several stages, in order'));
    expect(dialog.querySelector('#template-approvers')).toBeNull();
    const stages = within(dialog).getByRole('list', { name: 'Stages' });
    const stage = (n: number) =>
      within(stages).getByRole('group', { name: new RegExp(`^Stage ${n}`) });
    expect(
      (dialog.querySelector('#stage-approvers-0') as HTMLTextAreaElement).value,
    ).toBe('ou_lead');
    change('Stage name (optional)', 'Team lead', stage(1));
    change('Stage name (optional)', 'SRE', stage(2));
    changeById('stage-approvers-1', 'ou_sre1, ou_sre2', dialog);
    fireEvent.mouseDown(
      within(stage(2)).getByLabelText('The stage is approved when'),
    );
    fireEvent.click(
      within(screen.getByRole('listbox')).getByText('All of them approve'),
    );
    expect(dialog).toHaveTextContent(
      '2 approver nodes, one per stage in order: Team lead (any one of them approves), SRE (all of them approve)',
    );
    // The schema refuses other approvers with stages: the box is disabled and says why.
    const override = within(dialog).getByLabelText(
      'A workflow step may name other approvers',
    );
    expect(override).toBeDisabled();
    expect(override).toHaveAccessibleDescription(
      'Not with stages: the approvers a workflow step names could not say which stage they replace.',
    );

    fireEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(api.createTemplate).toHaveBeenCalled());
    const sent = api.createTemplate.mock.calls[0][0];
    expect(sent).toMatchObject({
      name: 'release',
      form: { create: true },
      fields: { Service: '${vars.service}', Reason: '${vars.reason}' },
      stages: [
        { name: 'Team lead', approvers: ['ou_lead'], rule: 'any' },
        { name: 'SRE', approvers: ['ou_sre1', 'ou_sre2'], rule: 'all' },
      ],
      allowApproverOverride: false,
    });
    expect(sent).not.toHaveProperty('approvers');
  });

  it('checks each stage, in words under it, clears a message as its input changes, and adds, moves and removes stages', async () => {
    const api = fakeApi({
      listTemplates: jest.fn(async () => []),
      listIntegrations: jest.fn(async () => [databaseIntegration]),
      createTemplate: jest.fn(async () => template),
    });
    await renderPage(api, '/templates');
    fireEvent.click(
      await screen.findByRole('button', { name: 'Add template' }),
    );
    const dialog = await screen.findByRole('dialog');
    change(/^Name/, 'release', dialog);
    change(/Approval code/, 'DEPLOY', dialog);
    fireEvent.click(within(dialog).getByLabelText('Several stages, in order'));
    changeById('stage-approvers-0', 'ou_lead', dialog);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Add stage' }));
    changeById('stage-approvers-2', 'ou_sre', dialog);
    change(
      'Stage name (optional)',
      'x'.repeat(81),
      within(dialog).getByRole('group', { name: 'Stage 3' }),
    );

    fireEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    expect(
      await within(dialog).findByText('Stage 2 needs at least one approver.'),
    ).toBeInTheDocument();
    expect(dialog.querySelector('#stage-name-2-helper-text')).toHaveTextContent(
      /80/,
    );
    expect(api.createTemplate).not.toHaveBeenCalled();
    changeById('stage-approvers-1', 'ou_qa', dialog);
    expect(
      within(dialog).queryByText('Stage 2 needs at least one approver.'),
    ).toBeNull();
    change(
      'Stage name (optional)',
      'SRE',
      within(dialog).getByRole('group', { name: /^Stage 3/ }),
    );

    // Stage 3 moves up to second, then the first is removed.
    fireEvent.click(
      within(dialog).getByRole('button', { name: 'Move stage 3 up' }),
    );
    expect(
      within(dialog).getByRole('button', { name: 'Move stage 1 up' }),
    ).toBeDisabled();
    expect(
      within(dialog).getByRole('button', { name: 'Move stage 3 down' }),
    ).toBeDisabled();
    fireEvent.click(
      within(dialog).getByRole('button', { name: 'Remove stage 1' }),
    );
    expect(
      within(within(dialog).getByRole('list', { name: 'Stages' }))
        .getAllByRole('heading')
        .map(heading => heading.textContent),
    ).toEqual(['Stage 1: SRE', 'Stage 2']);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(api.createTemplate).toHaveBeenCalled());
    expect(api.createTemplate.mock.calls[0][0].stages).toEqual([
      { name: 'SRE', approvers: ['ou_sre'], rule: 'all' },
      { name: undefined, approvers: ['ou_qa'], rule: 'all' },
    ]);
  });

  it('keeps a stage that counts its approvals when the template is edited, checking the number in words', async () => {
    const counted: TemplateView = {
      ...template,
      approvers: undefined,
      stages: [
        { approvers: ['ou_a', 'ou_b', 'ou_c'], rule: 'all', atLeast: 2 },
      ],
    };
    const api = fakeApi({
      listTemplates: jest.fn(async () => [counted]),
      listIntegrations: jest.fn(async () => [databaseIntegration]),
      updateTemplate: jest.fn(async () => counted),
    });
    await renderPage(api, '/templates');
    const row = (await screen.findByRole('button', { name: 'deploy' })).closest(
      'tr',
    )!;
    expect(row).toHaveTextContent('at least 2 of them approve');
    fireEvent.click(within(row).getByRole('button', { name: 'deploy' }));
    const dialog = await screen.findByRole('dialog');
    const howMany = () =>
      within(dialog).getByLabelText(/How many must approve/);
    expect(howMany()).toHaveValue('2');
    fireEvent.change(howMany(), { target: { value: 'two' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    expect(
      await within(dialog).findByText(
        "Say how many of stage 1's approvers must approve: a whole number from 1.",
      ),
    ).toBeInTheDocument();
    fireEvent.change(howMany(), { target: { value: '4' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    expect(
      await within(dialog).findByText(
        /must not exceed the number of approvers \(4 > 3\)/,
      ),
    ).toBeInTheDocument();
    expect(api.updateTemplate).not.toHaveBeenCalled();
    fireEvent.change(howMany(), { target: { value: '2' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(api.updateTemplate).toHaveBeenCalled());
    expect(api.updateTemplate.mock.calls[0][1].stages).toEqual([
      { name: undefined, approvers: ['ou_a', 'ou_b', 'ou_c'], atLeast: 2 },
    ]);
  });

  const made: TemplateView = {
    ...template,
    name: 'release',
    form: { create: true },
    fields: { Service: '${vars.service}' },
    approvers: undefined,
    stages: [
      { name: 'Team lead', approvers: ['ou_lead'], rule: 'any' },
      { approvers: ['ou_sre1', 'ou_sre2'], rule: 'all' },
    ],
    managedForm: {
      formId: 'A1B2-C3',
      url: 'https://feishu.example/approval/A1B2-C3',
      integration: 'feishu-ops',
      savedAt: '2025-01-02T10:00:00.000Z',
      checkedAt: '2025-01-02T11:00:00.000Z',
      drift: [
        'Field "Service" was renamed "Service name" in Feishu',
        'Node "stage_2" is OR in Feishu, where the stage needs all',
      ],
    },
  };

  it('shows the form the backend made, its stages and drift, lists each difference, and updates the form, reading the list again', async () => {
    const updated = {
      ...made.managedForm!,
      drift: [],
      savedAt: '2025-01-03T10:00:00.000Z',
    };
    const api = fakeApi({
      listTemplates: jest
        .fn()
        .mockResolvedValueOnce([made])
        .mockResolvedValue([{ ...made, managedForm: updated }]),
      listIntegrations: jest.fn(async () => [databaseIntegration]),
      saveTemplateForm: jest.fn(async () => updated),
    });
    await renderPage(api, '/templates');
    const row = (
      await screen.findByRole('button', { name: 'release' })
    ).closest('tr')!;
    const cells = within(row).getAllByRole('cell');
    expect(
      within(cells[1]).getByRole('link', { name: /A1B2-C3/ }),
    ).toHaveAttribute('href', 'https://feishu.example/approval/A1B2-C3');
    expect(cells[1]).toHaveTextContent(
      `saved ${new Date('2025-01-02T10:00:00.000Z').toLocaleString()}, checked ${new Date('2025-01-02T11:00:00.000Z').toLocaleString()}`,
    );
    expect(cells[1]).toHaveTextContent('Changed in the IM: 2 differences');
    expect(
      within(cells[2])
        .getAllByRole('listitem')
        .map(item => item.textContent),
    ).toEqual([
      'Team lead: ou_leadany one of them approves',
      'Stage 2: ou_sre1, ou_sre2all of them approve',
    ]);

    fireEvent.click(
      within(row).getByRole('button', { name: 'Update the form in the IM' }),
    );
    const dialog = await screen.findByRole('dialog', {
      name: 'The IM form of release',
    });
    expect(
      within(within(dialog).getByRole('alert'))
        .getAllByRole('listitem')
        .map(item => item.textContent),
    ).toEqual(made.managedForm!.drift);
    expect(dialog).toHaveTextContent(
      'creates a form in Feishu / Lark with one text field, labelled as the field mapping names them (Service), a Context field, unless the mapping has one, telling approvers who asked, the repository, ref, commit, run and what changes since the last approved request, and 2 approver nodes, one per stage in order: Team lead (any one of them approves), Stage 2 (all of them approve)',
    );
    fireEvent.click(
      within(dialog).getByRole('button', { name: 'Update the form in the IM' }),
    );
    expect(
      await within(dialog).findByText(
        'Updated the form A1B2-C3 in Feishu / Lark.',
      ),
    ).toBeInTheDocument();
    expect(api.saveTemplateForm).toHaveBeenCalledWith('release');
    // The difference is gone from the dialog, and the list was read again.
    expect(within(dialog).queryByText(/no longer matches/)).toBeNull();
    await waitFor(() => expect(api.listTemplates).toHaveBeenCalledTimes(2));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Close' }));
    await waitFor(() =>
      expect(
        screen.getByRole('button', { name: 'release' }).closest('tr'),
      ).not.toHaveTextContent('Changed in the IM'),
    );

    // The template's own dialog shows its stages and the form made.
    fireEvent.click(screen.getByRole('button', { name: 'release' }));
    const edit = await screen.findByRole('dialog', {
      name: 'Template release',
    });
    expect(
      within(edit).getByLabelText('Create the form in the IM'),
    ).toBeChecked();
    expect(
      within(edit).getByLabelText('Several stages, in order'),
    ).toBeChecked();
    expect(
      (edit.querySelector('#stage-approvers-1') as HTMLTextAreaElement).value,
    ).toBe('ou_sre1\nou_sre2');
    expect(within(edit).getByTestId('managed-form-id')).toHaveTextContent(
      'Made in the IM: form A1B2-C3',
    );
  });

  it('shows the IM’s refusal to make a form in the dialog, in its words', async () => {
    const refusal = await ResponseError.fromResponse(
      new Response(
        JSON.stringify({
          error: {
            name: 'ConflictError',
            message:
              'Feishu refused: the app lacks the approval:approval scope; grant it in the developer console (the app, Permissions & Scopes) and publish a new version',
          },
          request: { method: 'POST', url: '/templates/release/form' },
          response: { statusCode: 409 },
        }),
        { status: 409, headers: { 'content-type': 'application/json' } },
      ),
    );
    const api = fakeApi({
      listTemplates: jest.fn(async () => [{ ...made, managedForm: null }]),
      listIntegrations: jest.fn(async () => [databaseIntegration]),
      saveTemplateForm: jest.fn(async () => Promise.reject(refusal)),
    });
    await renderPage(api, '/templates');
    const row = (
      await screen.findByRole('button', { name: 'release' })
    ).closest('tr')!;
    expect(row).toHaveTextContent('Not made in the IM yet.');
    fireEvent.click(
      within(row).getByRole('button', { name: 'Create the form in the IM' }),
    );
    const dialog = await screen.findByRole('dialog');
    fireEvent.click(
      within(dialog).getByRole('button', { name: 'Create the form in the IM' }),
    );
    expect(await within(dialog).findByRole('alert')).toHaveTextContent(
      'Feishu refused: the app lacks the approval:approval scope; grant it in the developer console (the app, Permissions & Scopes) and publish a new version',
    );
    // Nothing was made, so the list is not read again.
    expect(api.listTemplates).toHaveBeenCalledTimes(1);
  });

  it('adds users and groups from the catalog to the approvers and to CC', async () => {
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

    // CC has its own picker: a group picked there goes to CC, not to the approvers.
    const ccPicker = within(dialog).getByLabelText(
      'Add a user or group from the catalog to CC',
    );
    fireEvent.mouseDown(ccPicker);
    fireEvent.change(ccPicker, { target: { value: 'release' } });
    fireEvent.click(
      await screen.findByRole('option', {
        name: /group:default\/release-managers/,
      }),
    );
    expect(
      (dialog.querySelector('#template-cc') as HTMLTextAreaElement).value,
    ).toBe('group:default/release-managers');
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
