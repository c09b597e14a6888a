import Box from '@material-ui/core/Box';
import Alert from '@material-ui/lab/Alert';
import { errorMessage } from './errorMessage';

/** Why an action failed, in the backend's words when it sent some; nothing while there is no failure. */
export function ErrorAlert(props: { error?: Error }) {
  if (!props.error) return null;
  return (
    <Box mt={2}>
      <Alert severity="error">{errorMessage(props.error)}</Alert>
    </Box>
  );
}
