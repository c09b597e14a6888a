import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogContentText from '@material-ui/core/DialogContentText';
import DialogTitle from '@material-ui/core/DialogTitle';
import useAsyncFn from 'react-use/esm/useAsyncFn';
import { ErrorAlert } from './ErrorAlert';

/** Asks before deleting, and shows why the backend refused if it did. */
export function ConfirmDelete(props: {
  what: string;
  consequence: string;
  onDelete: () => Promise<void>;
  onDone: () => void;
  onClose: () => void;
}) {
  const [removing, remove] = useAsyncFn(async () => {
    await props.onDelete();
    props.onDone();
  }, [props.onDelete, props.onDone]);
  return (
    <Dialog open onClose={props.onClose}>
      <DialogTitle>Delete {props.what}?</DialogTitle>
      <DialogContent>
        <DialogContentText>{props.consequence}</DialogContentText>
        <ErrorAlert error={removing.error} />
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onClose}>Keep</Button>
        <Button
          color="secondary"
          variant="contained"
          disabled={removing.loading}
          onClick={() => remove()}
        >
          Delete
        </Button>
      </DialogActions>
    </Dialog>
  );
}
