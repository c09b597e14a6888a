import Button from '@material-ui/core/Button';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogContentText from '@material-ui/core/DialogContentText';
import Alert from '@material-ui/lab/Alert';
import useAsyncFn from 'react-use/esm/useAsyncFn';
import { ErrorAlert } from './ErrorAlert';
import { TitledDialog } from './TitledDialog';

/**
 * Asks before deleting, saying what the backend will do; shows why the backend refused if it did.
 * With `blockedBy`, the page already knows the backend would refuse: Delete is disabled, and why.
 */
export function ConfirmDelete(props: {
  what: string;
  consequence: string;
  blockedBy?: string;
  onDelete: () => Promise<void>;
  onDone: () => void;
  onClose: () => void;
}) {
  const [removing, remove] = useAsyncFn(async () => {
    await props.onDelete();
    props.onDone();
  }, [props.onDelete, props.onDone]);
  return (
    <TitledDialog title={`Delete ${props.what}?`} onClose={props.onClose}>
      <DialogContent>
        <DialogContentText>{props.consequence}</DialogContentText>
        {props.blockedBy && (
          <Alert severity="info" id="delete-blocked">
            {props.blockedBy}
          </Alert>
        )}
        <ErrorAlert error={removing.error} />
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onClose}>Keep</Button>
        <Button
          color="secondary"
          variant="contained"
          disabled={removing.loading || props.blockedBy !== undefined}
          aria-describedby={props.blockedBy ? 'delete-blocked' : undefined}
          onClick={() => remove()}
        >
          Delete
        </Button>
      </DialogActions>
    </TitledDialog>
  );
}
