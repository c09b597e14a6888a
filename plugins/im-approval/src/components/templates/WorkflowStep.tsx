import { CopyTextButton, Link, Progress } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  placeholdersOf,
  type TemplateView,
} from '@im-approval/plugin-im-approval-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import { makeStyles } from '@material-ui/core/styles';
import Typography from '@material-ui/core/Typography';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { imApprovalApiRef } from '../../api/ImApprovalApi';
import { usePluginLink } from '../shared/basePath';
import { RequestFailed } from '../shared/RequestFailed';
import { TitledDialog } from '../shared/TitledDialog';

/** The Action as the README and the Action's CHANGELOG publish it: a tag of this repository. */
export const ACTION_USES = 'my-org/im-approval/actions/im-approval@v1';

/** The plugin's API path, which the Action adds to `backstage-url` itself. */
const API_PATH = /\/api\/im-approval\/?$/;

const useStyles = makeStyles(theme => ({
  yaml: {
    margin: 0,
    padding: theme.spacing(1.5),
    flex: 1,
    minWidth: 0,
    overflowX: 'auto',
    background: theme.palette.background.default,
    borderRadius: theme.shape.borderRadius,
  },
}));

/**
 * A value as a YAML scalar: plain when YAML reads it back as that string, JSON-quoted (valid YAML)
 * otherwise, e.g. a template named `1.10` (a number) or `on` (a boolean).
 */
function yamlScalar(value: string): string {
  const plain =
    /^[A-Za-z0-9][A-Za-z0-9:/._~%?&=+@-]*$/.test(value) &&
    !/^(true|false|yes|no|on|off|null|y|n)$/i.test(value) &&
    Number.isNaN(Number(value));
  return plain ? value : JSON.stringify(value);
}

/** The `vars.NAME` names the template's title and fields use, which the step must pass. */
function variableNames(template: TemplateView): string[] {
  return placeholdersOf(template)
    .filter(name => name.startsWith('vars.'))
    .map(name => name.slice('vars.'.length));
}

/**
 * The job keys that open an approval from `template`: the OIDC permission and the Action's step, with
 * one `NAME=` line per variable the template uses (values left for the author to fill in).
 */
export function workflowStepYaml(
  template: TemplateView,
  backendUrl: string,
): string {
  const names = variableNames(template);
  return [
    'permissions:',
    '  id-token: write # the Action proves its repository and run with a GitHub OIDC token',
    '  contents: read',
    'steps:',
    '  - id: approval',
    `    uses: ${ACTION_USES}`,
    '    with:',
    `      backstage-url: ${yamlScalar(backendUrl)}`,
    `      template: ${yamlScalar(template.name)}`,
    ...(names.length > 0
      ? ['      variables: |', ...names.map(name => `        ${name}=`)]
      : []),
    '',
  ].join('\n');
}

/** The step to paste into a workflow for this template, and the deployment gate that needs none. */
export function WorkflowStep(props: { template: TemplateView }) {
  const api = useApi(imApprovalApiRef);
  const classes = useStyles();
  const link = usePluginLink();
  // The backend as the browser reaches it (discovery), without the API path the Action adds.
  const { retry: retryBackendUrl, ...backendUrl } = useAsyncRetry(
    async () => (await api.getBaseUrl()).replace(API_PATH, ''),
    [api],
  );
  const { template } = props;
  const environments = template.policy.environments ?? [];

  if (backendUrl.loading) return <Progress />;
  if (backendUrl.error)
    return (
      <RequestFailed
        error={backendUrl.error}
        what="find the backend's URL"
        onRetry={retryBackendUrl}
      />
    );
  const yaml = workflowStepYaml(template, backendUrl.value!);
  const names = variableNames(template);

  return (
    <>
      <Typography variant="subtitle1" component="h3">
        With the GitHub Action
      </Typography>
      <Typography variant="body2" paragraph>
        Put these keys in the job that needs the approval (the permissions may
        be the workflow’s instead); its next steps run once the approval is
        granted.
        {names.length > 0 && (
          <>
            {' '}
            Fill in a value after{' '}
            {names.map((name, index) => (
              <span key={name}>
                {index > 0 && ', '}
                <code>{name}=</code>
              </span>
            ))}
            : the template’s title and fields use them, and a variable left out
            fails the step.
          </>
        )}
      </Typography>
      <Box display="flex" alignItems="flex-start" style={{ gap: 8 }}>
        <pre className={classes.yaml}>
          <code>{yaml}</code>
        </pre>
        <CopyTextButton
          text={yaml}
          tooltipText="Workflow step copied"
          aria-label="Copy workflow step"
        />
      </Box>
      <Typography variant="body2" color="textSecondary" paragraph>
        The backend must trust the repository’s OIDC tokens (
        <code>imApproval.github.oidc.allowedOwners</code>), and the template’s
        policy must allow the repository and ref.
        {environments.length > 0 && (
          <>
            {' '}
            It allows only the environments {environments.join(', ')}: the job
            needs <code>environment:</code> naming one of them.
          </>
        )}
      </Typography>
      <Typography variant="subtitle1" component="h3">
        Or with a deployment gate, no runner waiting
      </Typography>
      <Typography variant="body2">
        GitHub can hold a job that targets an environment until the approval is
        decided, with no step of ours in the workflow and no runner waiting: on
        the{' '}
        <Link to={link('gates')} underline="always">
          Deployment gates
        </Link>{' '}
        tab, add a gate for the environment that names the template{' '}
        {template.name}; then, in each repository, enable the GitHub App under
        Settings → Environments → the environment → Deployment protection rules.
        The job then only names its environment (
        <code>environment: production</code>).
      </Typography>
    </>
  );
}

/** "Use in a workflow" for one template, from the templates table. */
export function WorkflowStepDialog(props: {
  template: TemplateView;
  onClose: () => void;
}) {
  return (
    <TitledDialog
      title={`Use ${props.template.name} in a workflow`}
      onClose={props.onClose}
      fullWidth
      maxWidth="md"
    >
      <DialogContent>
        <WorkflowStep template={props.template} />
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onClose}>Close</Button>
      </DialogActions>
    </TitledDialog>
  );
}
