import { Link } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  placeholdersOf,
  type Approval,
  type TemplateView,
} from '@im-approval/plugin-im-approval-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogContentText from '@material-ui/core/DialogContentText';
import TextField from '@material-ui/core/TextField';
import Alert from '@material-ui/lab/Alert';
import { useState } from 'react';
import useAsyncFn from 'react-use/esm/useAsyncFn';
import { imApprovalApiRef } from '../../api/ImApprovalApi';
import { usePluginLink } from '../shared/basePath';
import { ErrorAlert } from '../shared/ErrorAlert';
import { TitledDialog } from '../shared/TitledDialog';

/** The `vars.NAME` names a template's title and fields use: the backend fills the ones left out with samples. */
function usedVariables(template: TemplateView): string[] {
  return placeholdersOf(template)
    .filter(name => name.startsWith('vars.'))
    .map(name => name.slice('vars.'.length));
}

/** Opens a real approval from a template, to see it arrive in the IM; left-out values get samples. */
export function SendTestApproval(props: {
  template: TemplateView;
  onClose: () => void;
}) {
  const api = useApi(imApprovalApiRef);
  const link = usePluginLink();
  const names = usedVariables(props.template);
  const [values, setValues] = useState<Record<string, string>>({});
  const [sending, send] = useAsyncFn(async (): Promise<Approval> => {
    const variables = Object.fromEntries(
      Object.entries(values).filter(([, value]) => value.trim()),
    );
    return api.sendTestApproval(props.template.name, { variables });
  }, [api, props.template.name, values]);
  const sent = sending.value;

  return (
    <TitledDialog
      title={`Send a test approval from ${props.template.name}`}
      onClose={props.onClose}
      fullWidth
      maxWidth="sm"
    >
      <DialogContent>
        <DialogContentText>
          This opens a real approval in the IM for the template's approvers,
          marked as a test. Values left empty get sample values.
        </DialogContentText>
        {names.map(name => (
          <TextField
            key={name}
            id={`test-variable-${name}`}
            fullWidth
            margin="dense"
            label={`vars.${name}`}
            value={values[name] ?? ''}
            disabled={Boolean(sent)}
            onChange={event =>
              setValues({ ...values, [name]: event.target.value })
            }
          />
        ))}
        {sent && (
          <Box mt={2}>
            <Alert severity="success">
              Sent:{' '}
              <Link to={link(`approvals/${sent.id}`)}>approval {sent.id}</Link>
              {sent.imInstanceId && ` (IM instance ${sent.imInstanceId})`},{' '}
              {sent.status}.
            </Alert>
          </Box>
        )}
        <ErrorAlert error={sending.error} />
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onClose}>Close</Button>
        {!sent && (
          <Button
            color="primary"
            variant="contained"
            disabled={sending.loading}
            onClick={() => send()}
          >
            Send test approval
          </Button>
        )}
      </DialogActions>
    </TitledDialog>
  );
}
