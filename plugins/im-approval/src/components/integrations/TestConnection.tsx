import { useApi } from '@backstage/core-plugin-api';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Alert from '@material-ui/lab/Alert';
import useAsyncFn from 'react-use/esm/useAsyncFn';
import { imApprovalApiRef } from '../../api/ImApprovalApi';
import { ErrorAlert } from '../shared/ErrorAlert';

/** Asks the backend to fetch a token from the IM with the saved credentials, and shows its answer. */
export function TestConnection(props: { integrationId: string }) {
  const api = useApi(imApprovalApiRef);
  const [testing, test] = useAsyncFn(
    () => api.testIntegration(props.integrationId),
    [api, props.integrationId],
  );
  const result = testing.loading ? undefined : testing.value;
  const busy = testing.loading;

  return (
    <Box display="flex" flexDirection="column" style={{ gap: 8 }}>
      <Box>
        <Button variant="outlined" onClick={() => test()} disabled={busy}>
          {busy ? 'Testing…' : 'Test connection'}
        </Button>
      </Box>
      {result?.ok === true && (
        <Alert severity="success">{result.message}</Alert>
      )}
      {result?.ok === false && (
        <Alert severity="error">
          {result.message}
          {result.code !== undefined && ` (IM error ${result.code})`}
        </Alert>
      )}
      <ErrorAlert error={testing.error} />
    </Box>
  );
}
