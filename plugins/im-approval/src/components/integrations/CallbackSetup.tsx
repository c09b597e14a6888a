import { CopyTextButton } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import useAsync from 'react-use/esm/useAsync';
import { imApprovalApiRef } from '../../api/ImApprovalApi';
import type { ProviderDescriptor } from '../../providers';

/** The URL to paste into the IM's console, and the console steps for that IM. */
export function CallbackSetup(props: {
  descriptor: ProviderDescriptor;
  callbackPath?: string;
}) {
  const api = useApi(imApprovalApiRef);
  const { value: baseUrl } = useAsync(() => api.getBaseUrl(), [api]);
  const callbackUrl =
    props.callbackPath && baseUrl
      ? `${baseUrl}${props.callbackPath}`
      : undefined;
  return (
    <Box mt={2}>
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
      <Typography variant="subtitle2" style={{ marginTop: 16 }}>
        Set up in the {props.descriptor.label} console
      </Typography>
      <ol style={{ marginTop: 4, paddingLeft: 20 }}>
        {props.descriptor.consoleSteps.map((step, index) => (
          <li key={index}>
            <Typography variant="body2">{step}</Typography>
          </li>
        ))}
      </ol>
    </Box>
  );
}
