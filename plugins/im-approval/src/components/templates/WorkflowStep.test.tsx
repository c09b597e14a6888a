import { fireEvent, screen, within } from '@testing-library/react';
import {
  databaseIntegration,
  fakeApi,
  renderPage,
  template,
} from '../../__testUtils__/renderPage';

const stepFor = async (shown: typeof template) => {
  const api = fakeApi({
    listTemplates: jest.fn(async () => [shown]),
    listIntegrations: jest.fn(async () => [databaseIntegration]),
  });
  await renderPage(api, '/templates');
  fireEvent.click(
    await screen.findByRole('button', { name: 'Use in a workflow' }),
  );
  const dialog = await screen.findByRole('dialog', {
    name: `Use ${shown.name} in a workflow`,
  });
  return {
    dialog,
    yaml: await within(dialog).findByText(/^permissions:/, {
      selector: 'code',
    }),
  };
};

describe('a template’s workflow step', () => {
  it('is the exact YAML for the template: the OIDC permission, the Action, the backend, and one line per variable', async () => {
    const { dialog, yaml } = await stepFor(template);
    // The backend as discovery gives it, without the API path the Action adds itself.
    expect(yaml.textContent).toBe(
      [
        'permissions:',
        '  id-token: write # the Action proves its repository and run with a GitHub OIDC token',
        '  contents: read',
        'steps:',
        '  - id: approval',
        '    uses: my-org/im-approval/actions/im-approval@v1',
        '    with:',
        '      backstage-url: http://backstage.test',
        '      template: deploy',
        '      variables: |',
        '        service=',
        '',
      ].join('\n'),
    );
    expect(
      within(dialog).getByRole('button', { name: 'Copy workflow step' }),
    ).toBeInTheDocument();
  });

  it('copies exactly the YAML shown', async () => {
    let copied: string | undefined;
    const execCommand = jest.fn(() => {
      copied = document.getSelection()?.toString();
      return true;
    });
    Object.defineProperty(document, 'execCommand', {
      value: execCommand,
      configurable: true,
    });
    try {
      const { dialog, yaml } = await stepFor(template);
      fireEvent.click(
        within(dialog).getByRole('button', { name: 'Copy workflow step' }),
      );
      expect(execCommand).toHaveBeenCalledWith('copy');
      expect(copied).toBe(yaml.textContent);
    } finally {
      delete (document as { execCommand?: unknown }).execCommand;
    }
  });

  it('passes no variables to a template without any, and quotes a name YAML would read as a number', async () => {
    const { yaml } = await stepFor({
      ...template,
      name: '1.10',
      title: 'Approval for ${repository}',
      fields: { widget_run: '${runUrl}' },
    });
    expect(yaml.textContent).toContain('      template: "1.10"\n');
    expect(yaml.textContent).not.toContain('variables');
  });

  it('names the environments the template allows, and points to deployment gates as the way without a runner', async () => {
    const { dialog } = await stepFor({
      ...template,
      policy: { ...template.policy, environments: ['production', 'prod-*'] },
    });
    expect(dialog).toHaveTextContent(
      'It allows only the environments production, prod-*: the job needs environment: naming one of them.',
    );
    expect(
      within(dialog).getByRole('heading', {
        name: 'Or with a deployment gate, no runner waiting',
      }),
    ).toBeInTheDocument();
    expect(
      within(dialog).getByRole('link', { name: 'Deployment gates' }),
    ).toHaveAttribute('href', '/gates');
    expect(dialog).toHaveTextContent(
      'Settings → Environments → the environment → Deployment protection rules',
    );
  });
});
