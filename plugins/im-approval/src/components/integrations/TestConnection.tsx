import { useApi } from '@backstage/core-plugin-api';
import type { IntegrationTestResult } from '@im-approval/plugin-im-approval-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Alert from '@material-ui/lab/Alert';
import useAsyncFn from 'react-use/esm/useAsyncFn';
import { imApprovalApiRef } from '../../api/ImApprovalApi';
import { errorMessage } from '../shared/errorMessage';

/** Asks the backend to fetch a token from the IM with the saved credentials, and shows its answer. */
export function TestConnection(props: { integrationId: string }) {
  const api = useApi(imApprovalApiRef);
  return (
    <TestConnectionButton
      test={() => api.testIntegration(props.integrationId)}
    />
  );
}

/** A Test connection button with the IM's answer beside it, or why there is none. */
export function TestConnectionButton(props: {
  test: () => Promise<IntegrationTestResult>;
}) {
  const [testing, test] = useAsyncFn(props.test, [props.test]);
  const busy = testing.loading;
  const result = busy ? undefined : testing.value;
  const failure = busy ? undefined : testing.error;

  return (
    <Box display="flex" alignItems="center" flexWrap="wrap" style={{ gap: 8 }}>
      <Button
        variant="outlined"
        onClick={() => test()}
        disabled={busy}
        style={{ whiteSpace: 'nowrap', flexShrink: 0 }}
      >
        {busy ? 'Testing…' : 'Test connection'}
      </Button>
      {result?.ok === true && (
        <Alert severity="success">{result.message}</Alert>
      )}
      {result?.ok === false && (
        <Alert severity="error">
          {result.message}
          {result.code !== undefined && ` (IM error ${result.code})`}
        </Alert>
      )}
      {failure && <Alert severity="error">{errorMessage(failure)}</Alert>}
    </Box>
  );
}
