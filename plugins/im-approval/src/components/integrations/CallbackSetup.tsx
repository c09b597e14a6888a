import { CopyTextButton } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import type { ConnectionMode } from '@im-approval/plugin-im-approval-common';
import useAsync from 'react-use/esm/useAsync';
import { imApprovalApiRef } from '../../api/ImApprovalApi';
import { inMode, type ProviderDescriptor } from '../../providers';

/** The console steps for that IM in the chosen connection mode, and for callbacks the URL to paste. */
export function CallbackSetup(props: {
  descriptor: ProviderDescriptor;
  connectionMode: ConnectionMode;
  callbackPath?: string;
}) {
  const api = useApi(imApprovalApiRef);
  const { value: baseUrl } = useAsync(() => api.getBaseUrl(), [api]);
  const callbackUrl =
    props.callbackPath && baseUrl
      ? `${baseUrl}${props.callbackPath}`
      : undefined;
  const steps = props.descriptor.consoleSteps.filter(step =>
    inMode(step, props.connectionMode),
  );
  return (
    <Box mt={2}>
      {props.connectionMode === 'callback' && (
        <CallbackUrl callbackUrl={callbackUrl} />
      )}
      <Typography variant="subtitle2" style={{ marginTop: 16 }}>
        Set up in the {props.descriptor.label} console
      </Typography>
      <ol style={{ marginTop: 4, paddingLeft: 20 }}>
        {steps.map((step, index) => (
          <li key={index}>
            <Typography variant="body2">{step.step}</Typography>
          </li>
        ))}
      </ol>
    </Box>
  );
}

function CallbackUrl(props: { callbackUrl?: string }) {
  const { callbackUrl } = props;
  return (
    <>
      <Typography variant="subtitle2">Callback URL</Typography>
      {callbackUrl ? (
        <Box display="flex" alignItems="center" style={{ gap: 8 }}>
          <Typography
            variant="body2"
            component="code"
            data-testid="callback-url"
            style={{ wordBreak: 'break-all' }}
          >
            {callbackUrl}
          </Typography>
          <CopyTextButton
            text={callbackUrl}
            tooltipText="Callback URL copied"
            aria-label="Copy callback URL"
          />
        </Box>
      ) : (
        <Typography variant="body2" color="textSecondary">
          Save the app first: the IM checks this URL when you paste it into its
          console, so Backstage must know the app by then.
        </Typography>
      )}
    </>
  );
}
