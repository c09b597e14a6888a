import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Alert from '@material-ui/lab/Alert';
import AlertTitle from '@material-ui/lab/AlertTitle';
import { classifyFailure } from './errorMessage';

const TITLES = {
  unreachable: 'The IM approval backend did not answer',
  denied: 'The IM approval backend refused your account',
  refused: 'The request failed',
} as const;

/**
 * A page's data could not be read: says whether the backend was unreachable, refused this user,
 * or failed the request, in its own words, with a way to try again.
 */
export function RequestFailed(props: {
  error: Error;
  /** What the page was doing, e.g. "read approvals". */
  what: string;
  onRetry: () => void;
}) {
  const failure = classifyFailure(props.error);
  return (
    <Box mb={2}>
      <Alert
        severity="error"
        action={
          <Button color="inherit" size="small" onClick={props.onRetry}>
            Retry
          </Button>
        }
      >
        <AlertTitle>{TITLES[failure.kind]}</AlertTitle>
        Could not {props.what}: {failure.message}
      </Alert>
    </Box>
  );
}
