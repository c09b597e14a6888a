import {
  CopyTextButton,
  InfoCard,
  Progress,
  ResponseErrorPanel,
  Table,
  type TableColumn,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  formatDuration,
  imApprovalIntegrationManagePermission,
  type Gate,
  type GithubDelivery,
  type GithubSetup,
} from '@im-approval/plugin-im-approval-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Chip from '@material-ui/core/Chip';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { imApprovalApiRef } from '../../api/ImApprovalApi';
import { PermissionGate } from '../shared/PermissionGate';
import { formatTime } from '../shared/time';

/** Deployment gates: connecting the GitHub App, the gates it serves, and what GitHub sent. */
export function GatesPage() {
  return (
    <PermissionGate
      permission={imApprovalIntegrationManagePermission}
      what="set up deployment gates"
    >
      <GatesSetup />
    </PermissionGate>
  );
}

function GatesSetup() {
  const api = useApi(imApprovalApiRef);
  const setup = useAsyncRetry(() => api.getGithubSetup(), [api]);
  if (setup.loading && !setup.value) return <Progress />;
  if (setup.error) return <ResponseErrorPanel error={setup.error} />;
  const value = setup.value!;
  return (
    <Grid container spacing={3}>
      <Grid item xs={12} md={7}>
        <AppSteps setup={value} />
      </Grid>
      <Grid item xs={12} md={5}>
        <GatesTable gates={value.gates} />
      </Grid>
      <Grid item xs={12}>
        <DeliveriesTable
          deliveries={value.deliveries}
          configured={value.configured}
          onTest={setup.retry}
          loading={setup.loading}
        />
      </Grid>
    </Grid>
  );
}

function AppSteps({ setup }: { setup: GithubSetup }) {
  return (
    <InfoCard
      title="The GitHub App"
      subheader={
        setup.configured ? (
          <Chip
            size="small"
            color="primary"
            label={`Configured: App ${setup.appId} at ${setup.apiBaseUrl}`}
          />
        ) : (
          <Chip
            size="small"
            label="Not configured: set imApproval.github.app in app-config"
          />
        )
      }
    >
      <Typography variant="subtitle2">Webhook URL</Typography>
      <Box display="flex" alignItems="center" style={{ gap: 8 }}>
        <Typography
          variant="body2"
          component="code"
          data-testid="webhook-url"
          style={{ wordBreak: 'break-all' }}
        >
          {setup.webhookUrl}
        </Typography>
        <CopyTextButton
          text={setup.webhookUrl}
          tooltipText="Webhook URL copied"
          aria-label="Copy webhook URL"
        />
      </Box>
      <ol style={{ paddingLeft: 20 }}>
        <li>
          <Typography variant="body2">
            In GitHub: Settings → Developer settings → GitHub Apps → New GitHub
            App. Paste the webhook URL above, and set a webhook secret.
          </Typography>
        </li>
        <li>
          <Typography variant="body2">
            Repository permissions:{' '}
            {setup.permissions.map(p => `${p.name}: ${p.access}`).join('; ')}.
          </Typography>
        </li>
        <li>
          <Typography variant="body2">
            Subscribe to events: {setup.events.join(', ')}.
          </Typography>
        </li>
        <li>
          <Typography variant="body2">
            Generate a private key, and install the App on the organisation (or
            the repositories) to gate.
          </Typography>
        </li>
        <li>
          <Typography variant="body2">
            Put the App ID, the private key and the webhook secret in app-config
            under imApproval.github.app (the key and the secret from environment
            variables), and restart the backend.
          </Typography>
        </li>
        <li>
          <Typography variant="body2">
            In each repository: Settings → Environments → the environment →
            Deployment protection rules: enable the App. Jobs with{' '}
            <code>environment:</code> that environment now wait here, with no
            runner.
          </Typography>
        </li>
      </ol>
    </InfoCard>
  );
}

function GatesTable({ gates }: { gates: Gate[] }) {
  const columns: TableColumn<Gate>[] = [
    { title: 'Gate', field: 'name' },
    { title: 'Environments', render: g => g.environments.join(', ') },
    {
      title: 'Repositories',
      render: g => g.repositories?.join(', ') ?? 'every installed one',
    },
    { title: 'Template', field: 'template' },
    {
      title: 'Timeout',
      render: g =>
        g.timeout === undefined
          ? "template's default"
          : formatDuration(g.timeout),
    },
  ];
  return (
    <Table<Gate>
      title="Gates (app-config imApproval.gates)"
      options={{ paging: false, search: false, padding: 'dense' }}
      columns={columns}
      data={gates}
      emptyContent={
        <Box p={2}>
          <Typography variant="body2">
            No gates: add imApproval.gates to app-config.
          </Typography>
        </Box>
      }
    />
  );
}

function DeliveriesTable(props: {
  deliveries: GithubDelivery[];
  configured: boolean;
  onTest: () => void;
  loading: boolean;
}) {
  const columns: TableColumn<GithubDelivery>[] = [
    { title: 'Received', render: d => formatTime(d.receivedAt) },
    {
      title: 'Event',
      render: d => [d.event, d.action].filter(Boolean).join(' · ') || '—',
    },
    {
      title: 'Answer',
      render: d => (
        <Chip
          size="small"
          color={d.outcome === 'refused' ? 'secondary' : 'default'}
          label={d.outcome}
        />
      ),
    },
    { title: 'Why', field: 'message' },
    { title: 'Delivery', render: d => d.id ?? '—' },
  ];
  return (
    <>
      <Box display="flex" alignItems="center" mb={1} style={{ gap: 16 }}>
        <Button
          variant="outlined"
          color="primary"
          disabled={props.loading || !props.configured}
          onClick={props.onTest}
        >
          Test webhook
        </Button>
        <Typography variant="body2" color="textSecondary">
          Send a delivery from the App's Advanced tab (Redeliver), or run a job
          that targets a gated environment, then see here what arrived and why
          any was refused.
        </Typography>
      </Box>
      <Table<GithubDelivery>
        title="Latest webhook deliveries"
        options={{ paging: false, search: false, padding: 'dense' }}
        columns={columns}
        data={props.deliveries}
        emptyContent={
          <Box p={2}>
            <Typography variant="body2">Nothing received yet.</Typography>
          </Box>
        }
      />
    </>
  );
}
