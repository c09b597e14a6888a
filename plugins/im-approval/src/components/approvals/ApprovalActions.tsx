import { useApi } from '@backstage/core-plugin-api';
import { usePermission } from '@backstage/plugin-permission-react';
import {
  cancelApprovalRequestSchema,
  decideApprovalRequestSchema,
  imApprovalApprovalDecidePermission,
  type Approval,
} from '@im-approval/plugin-im-approval-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogContentText from '@material-ui/core/DialogContentText';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import { useState } from 'react';
import useAsyncFn from 'react-use/esm/useAsyncFn';
import { imApprovalApiRef } from '../../api/ImApprovalApi';
import { ErrorAlert } from '../shared/ErrorAlert';
import { TitledDialog } from '../shared/TitledDialog';
import {
  imInstanceEffect,
  reasonEffect,
  workflowEffect,
  type AdminAction,
} from './decisionEffects';

const ACTION_TEXT: Record<AdminAction, { title: string; button: string }> = {
  approved: { title: 'Approve as an administrator', button: 'Approve' },
  rejected: { title: 'Reject as an administrator', button: 'Reject' },
  cancel: { title: 'Cancel this approval', button: 'Cancel approval' },
};

/** Cancel, approve and reject for people holding the decide permission, on pending approvals only. */
export function ApprovalActions(props: {
  approval: Approval;
  onChanged: () => void;
}) {
  // Asked about this approval: a policy may let its repository's owners decide it, and nobody else.
  const { loading, allowed } = usePermission({
    permission: imApprovalApprovalDecidePermission,
    resourceRef: props.approval.id,
  });
  const [action, setAction] = useState<AdminAction>();
  if (props.approval.status !== 'pending') return null;
  if (loading) return null;
  if (!allowed) {
    return (
      <Alert severity="info">
        This approval is waiting for its approvers in the IM. Only holders of
        the {imApprovalApprovalDecidePermission.name} permission for it can
        cancel or decide it here.
      </Alert>
    );
  }
  return (
    <>
      <Box display="flex" style={{ gap: 8 }}>
        <Button
          variant="contained"
          color="primary"
          onClick={() => setAction('approved')}
        >
          Approve
        </Button>
        <Button
          variant="contained"
          color="secondary"
          onClick={() => setAction('rejected')}
        >
          Reject
        </Button>
        <Button variant="outlined" onClick={() => setAction('cancel')}>
          Cancel approval
        </Button>
      </Box>
      {action && (
        <ActionDialog
          approval={props.approval}
          action={action}
          onClose={() => setAction(undefined)}
          onDone={() => {
            setAction(undefined);
            props.onChanged();
          }}
        />
      )}
    </>
  );
}

function ActionDialog(props: {
  approval: Approval;
  action: AdminAction;
  onClose: () => void;
  onDone: () => void;
}) {
  const api = useApi(imApprovalApiRef);
  const [reason, setReason] = useState('');
  const [invalid, setInvalid] = useState<string>();
  const text = ACTION_TEXT[props.action];
  const [sending, send] = useAsyncFn(
    async (request: () => Promise<Approval>) => {
      await request();
      props.onDone();
    },
  );

  /** Checks the reason with the API's own schema and sends exactly what it accepted. */
  const submit = async () => {
    const { action } = props;
    const parsed =
      action === 'cancel'
        ? cancelApprovalRequestSchema.safeParse({
            reason: reason.trim() || undefined,
          })
        : decideApprovalRequestSchema.safeParse({
            decision: action,
            comment: reason,
          });
    if (!parsed.success) {
      setInvalid(parsed.error.issues.map(issue => issue.message).join('; '));
      return;
    }
    setInvalid(undefined);
    const request = parsed.data;
    await send(() =>
      'decision' in request
        ? api.decideApproval(props.approval.id, request)
        : api.cancelApproval(props.approval.id, request.reason),
    );
  };

  return (
    <TitledDialog
      title={text.title}
      onClose={props.onClose}
      fullWidth
      maxWidth="sm"
    >
      <DialogContent>
        <DialogContentText>
          {workflowEffect(props.approval, props.action)}
        </DialogContentText>
        <Typography variant="subtitle2" component="h3">
          In the IM
        </Typography>
        <DialogContentText>
          {imInstanceEffect(props.approval)}
        </DialogContentText>
        <DialogContentText>
          {reasonEffect(props.approval, props.action)}
        </DialogContentText>
        <TextField
          id="approval-action-reason"
          // eslint-disable-next-line jsx-a11y/no-autofocus -- the dialog only asks for this field, so it starts there
          autoFocus
          fullWidth
          multiline
          minRows={2}
          variant="outlined"
          label={props.action === 'cancel' ? 'Reason (optional)' : 'Reason'}
          required={props.action !== 'cancel'}
          value={reason}
          onChange={event => setReason(event.target.value)}
          error={Boolean(invalid)}
          helperText={invalid}
        />
        <ErrorAlert error={sending.error} />
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onClose}>Back</Button>
        <Button
          color="primary"
          variant="contained"
          disabled={sending.loading}
          onClick={submit}
        >
          {text.button}
        </Button>
      </DialogActions>
    </TitledDialog>
  );
}
