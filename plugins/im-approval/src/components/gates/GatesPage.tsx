import {
  CopyTextButton,
  InfoCard,
  Progress,
  Table,
  type TableColumn,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  formatDuration,
  imApprovalIntegrationManagePermission,
  type GateView,
  type GithubDelivery,
  type GithubSetup,
} from '@im-approval/plugin-im-approval-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Chip from '@material-ui/core/Chip';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import { useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { imApprovalApiRef } from '../../api/ImApprovalApi';
import { ConfirmDelete } from '../shared/ConfirmDelete';
import { PermissionGate } from '../shared/PermissionGate';
import { RequestFailed } from '../shared/RequestFailed';
import { SourceChip } from '../shared/sourceColumn';
import { TABLE_OPTIONS } from '../shared/tableOptions';
import { formatTime } from '../shared/time';
import { GateDialog } from './GateDialog';
import { GithubAppForm } from './GithubAppForm';

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
  if (setup.error) {
    return (
      <RequestFailed
        error={setup.error}
        what="read the deployment gates"
        onRetry={setup.retry}
      />
    );
  }
  const value = setup.value!;
  return (
    <Grid container spacing={3}>
      <Grid item xs={12} lg={8}>
        <AppSteps setup={value} onSaved={setup.retry} />
      </Grid>
      <Grid item xs={12}>
        <GatesTable gates={value.gates} onChanged={setup.retry} />
      </Grid>
      <Grid item xs={12}>
        <DeliveriesTable
          deliveries={value.deliveries}
          configured={Boolean(value.app)}
          onTest={setup.retry}
          loading={setup.loading}
        />
      </Grid>
    </Grid>
  );
}

function appStatus(setup: GithubSetup): string {
  const { app } = setup;
  if (app)
    return `App ${app.appId} at ${app.apiBaseUrl} (${app.source === 'config' ? 'app-config, read-only' : 'saved here'})`;
  return setup.appEditable
    ? 'Not configured: save it below, or set imApproval.github.app in app-config'
    : 'Not configured: set imApproval.github.app in app-config (or imApproval.secretsKey to save one here)';
}

function AppSteps(props: { setup: GithubSetup; onSaved: () => void }) {
  const { setup } = props;
  return (
    <InfoCard
      title="The GitHub App"
      subheader={
        <Chip
          size="small"
          color={setup.app ? 'primary' : 'default'}
          label={appStatus(setup)}
        />
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
            Enter the App ID, the private key and the webhook secret here
            (stored encrypted, never shown again), or put them in app-config
            under imApproval.github.app and restart the backend.
          </Typography>
        </li>
        <li>
          <Typography variant="body2">
            In each repository: Settings → Environments → the environment →
            Deployment protection rules: enable the App. Jobs with{' '}
            <code>environment:</code> that environment now wait for a gate, with
            no runner.
          </Typography>
        </li>
      </ol>
      {setup.appEditable && (
        <GithubAppForm
          key={`${setup.app?.appId}-${setup.app?.apiBaseUrl}`}
          app={setup.app}
          onSaved={props.onSaved}
        />
      )}
    </InfoCard>
  );
}

type Open = { kind: 'new' } | { kind: 'existing'; view: GateView };

function GatesTable(props: { gates: GateView[]; onChanged: () => void }) {
  const api = useApi(imApprovalApiRef);
  const templates = useAsync(() => api.listTemplates(), [api]);
  const capabilities = useAsync(() => api.getCapabilities(), [api]);
  const [open, setOpen] = useState<Open>();
  const [deleting, setDeleting] = useState<GateView>();
  const canManage = capabilities.value?.manageTemplates;
  // Five columns fit a 1024 px window: where a gate is defined goes under its name, its timeout under its template.
  const columns: TableColumn<GateView>[] = [
    {
      title: 'Gate',
      field: 'name',
      render: row => (
        <>
          <Button
            color="primary"
            style={{ textTransform: 'none', whiteSpace: 'nowrap', padding: 0 }}
            onClick={() => setOpen({ kind: 'existing', view: row })}
          >
            {row.name}
          </Button>
          <div>
            <SourceChip source={row.source} />
          </div>
        </>
      ),
    },
    { title: 'Environments', render: g => g.environments.join(', ') },
    {
      title: 'Repositories',
      render: g => g.repositories?.join(', ') ?? 'every installed one',
    },
    {
      title: 'Template',
      field: 'template',
      render: g => (
        <>
          <div>{g.template}</div>
          <Typography variant="body2" component="div">
            Timeout:{' '}
            <span>
              {g.timeout === undefined
                ? "the template's default"
                : formatDuration(g.timeout)}
            </span>
          </Typography>
        </>
      ),
    },
    {
      title: 'Actions',
      render: row =>
        row.editable && canManage ? (
          <Button size="small" onClick={() => setDeleting(row)}>
            Delete
          </Button>
        ) : null,
    },
  ];
  return (
    <>
      <Box mb={1}>
        <Button
          variant="contained"
          color="primary"
          disabled={!canManage || !templates.value?.length}
          onClick={() => setOpen({ kind: 'new' })}
        >
          Add gate
        </Button>
      </Box>
      <Table<GateView>
        title="Gates, in the order they are matched"
        options={{ ...TABLE_OPTIONS, paging: false, search: false }}
        columns={columns}
        data={props.gates}
        emptyContent={
          <Box p={2}>
            <Typography variant="body2">
              No gates yet: add one, or list them under imApproval.gates in
              app-config.
            </Typography>
          </Box>
        }
      />
      {open && (
        <GateDialog
          existing={open.kind === 'existing' ? open.view : undefined}
          templates={templates.value ?? []}
          onSaved={() => {
            setOpen(undefined);
            props.onChanged();
          }}
          onClose={() => setOpen(undefined)}
        />
      )}
      {deleting && (
        <ConfirmDelete
          what={`gate ${deleting.name}`}
          consequence="Jobs it already holds keep their approvals; new jobs in its environments are no longer gated by it."
          onDelete={() => api.deleteGate(deleting.name)}
          onDone={() => {
            setDeleting(undefined);
            props.onChanged();
          }}
          onClose={() => setDeleting(undefined)}
        />
      )}
    </>
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
          style={{ whiteSpace: 'nowrap', flexShrink: 0 }}
          disabled={props.loading || !props.configured}
          onClick={props.onTest}
        >
          Test webhook
        </Button>
        <Typography variant="body2">
          Send a delivery from the App's Advanced tab (Redeliver), or run a job
          that targets a gated environment, then see here what arrived and why
          any was refused.
        </Typography>
      </Box>
      <Table<GithubDelivery>
        title="Latest webhook deliveries"
        options={{ ...TABLE_OPTIONS, paging: false, search: false }}
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
