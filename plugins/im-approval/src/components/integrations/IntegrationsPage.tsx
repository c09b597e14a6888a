import {
  Progress,
  ResponseErrorPanel,
  Table,
  type TableColumn,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  PROVIDER_CONNECTION_MODES,
  imApprovalIntegrationManagePermission,
  type IntegrationHealth,
  type IntegrationView,
} from '@im-approval/plugin-im-approval-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Tooltip from '@material-ui/core/Tooltip';
import Typography from '@material-ui/core/Typography';
import { useEffect, useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { imApprovalApiRef } from '../../api/ImApprovalApi';
import { providerDescriptor } from '../../providers';
import { ConfirmDelete } from '../shared/ConfirmDelete';
import { PermissionGate } from '../shared/PermissionGate';
import { sourceColumn } from '../shared/sourceColumn';
import { formatTime } from '../shared/time';
import { TABLE_OPTIONS } from '../shared/tableOptions';
import { IntegrationDialog } from './IntegrationDialog';
import { TestConnection } from './TestConnection';

/** Connections come and go by themselves: the page reads their state again this often. */
const HEALTH_REFRESH_MS = 10_000;

/** A time of today as its clock time ("12:03"), an older one with its date. */
function shortTime(iso: string): string {
  const at = new Date(iso);
  return at.toDateString() === new Date().toDateString()
    ? at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : at.toLocaleString();
}

function connectionText(health: IntegrationHealth | undefined): string {
  if (!health) return '…';
  switch (health.connection) {
    case 'not-needed':
      return health.connectionMode === 'poll'
        ? 'Not needed (polling)'
        : 'Not needed (callback URL)';
    case 'connected':
      return 'Connected';
    case 'unavailable':
      // The last error says which secret to enter again.
      return 'Not connecting: settings unreadable';
    case 'connecting':
      return health.since
        ? `Connecting since ${shortTime(health.since)}`
        : 'Connecting';
    default:
      return health.since
        ? `Reconnecting since ${shortTime(health.since)}`
        : 'Reconnecting';
  }
}

/** What the backend does on delete, in the app's own mode. */
function deleteConsequence(view: IntegrationView): string {
  const removed =
    'Backstage removes the app and its stored secrets, and refuses while a template uses it.';
  const mode =
    view.connectionMode ?? PROVIDER_CONNECTION_MODES[view.provider][0];
  switch (mode) {
    case 'long-connection':
    case 'stream':
      return `${removed} It closes the app's ${mode === 'stream' ? 'Stream' : 'long'} connection on every backend replica; approvals no longer arrive from it.`;
    case 'callback':
      return `${removed} Calls from the IM to its callback URL are refused from then on; remove the URL in the IM's console too.`;
    default:
      return `${removed} The reconciler stops reading the IM for it.`;
  }
}

/** The IM apps: those from app-config, read-only, and those managed here. */
export function IntegrationsPage() {
  return (
    <PermissionGate
      permission={imApprovalIntegrationManagePermission}
      what="manage IM apps"
    >
      <IntegrationsTable />
    </PermissionGate>
  );
}

type Open = { kind: 'new' } | { kind: 'existing'; view: IntegrationView };

function IntegrationsTable() {
  const api = useApi(imApprovalApiRef);
  const integrations = useAsyncRetry(() => api.listIntegrations(), [api]);
  const capabilities = useAsync(() => api.getCapabilities(), [api]);
  const health = useAsyncRetry(() => api.listIntegrationHealth(), [api]);
  // Which templates use each app; without the template permission the backend still refuses a delete.
  const templates = useAsyncRetry(() => api.listTemplates(), [api]);
  const [open, setOpen] = useState<Open>();
  const [deleting, setDeleting] = useState<IntegrationView>();

  const retryHealth = health.retry;
  useEffect(() => {
    const timer = setInterval(retryHealth, HEALTH_REFRESH_MS);
    return () => clearInterval(timer);
  }, [retryHealth]);

  if (integrations.loading && !integrations.value) return <Progress />;
  if (integrations.error)
    return <ResponseErrorPanel error={integrations.error} />;

  const healthOf = (id: string) =>
    health.value?.items.find(item => item.id === id);
  const usedBy = (id: string) =>
    templates.value?.filter(t => t.integration === id).map(t => t.name);
  const refresh = () => {
    integrations.retry();
    health.retry();
    templates.retry();
  };

  // Unknown until the capabilities arrive: the button waits, without claiming a missing key.
  const canStore = capabilities.value?.databaseSettings;
  // Five columns fit a 1024 px window: what the app is goes under its name, its last event under its connection.
  const columns: TableColumn<IntegrationView>[] = [
    {
      title: 'IM app',
      field: 'id',
      cellStyle: { wordBreak: 'break-word' },
      render: row => {
        const provider = providerDescriptor(row.provider);
        const mode =
          provider.connectionModes.find(m => m.value === row.connectionMode)
            ?.label ?? row.connectionMode;
        return (
          <>
            <Button
              color="primary"
              onClick={() => setOpen({ kind: 'existing', view: row })}
              // A name is shown as it is written, not upper-cased.
              style={{ textTransform: 'none', padding: 0 }}
            >
              {row.title ?? row.id}
            </Button>
            <Typography variant="body2" component="div">
              <span>{row.id}</span> · <span>{provider.label}</span> ·{' '}
              <span>{mode}</span>
            </Typography>
          </>
        );
      },
    },
    {
      title: 'Connection',
      render: row => {
        const item = healthOf(row.id);
        const at = item?.lastEventAt;
        return (
          <>
            <Tooltip
              title={
                item?.connection === 'connected' && item.since
                  ? `Since ${formatTime(item.since)}`
                  : ''
              }
            >
              <span data-testid={`connection-${row.id}`}>
                {connectionText(item)}
              </span>
            </Tooltip>
            <Typography variant="body2" component="div">
              Last event:{' '}
              <span data-testid={`last-event-${row.id}`}>
                {at ? shortTime(at) : 'None yet'}
              </span>
            </Typography>
          </>
        );
      },
    },
    {
      title: 'Last error',
      cellStyle: { wordBreak: 'break-word' },
      render: row => {
        const error = healthOf(row.id)?.lastError;
        return (
          <span data-testid={`last-error-${row.id}`}>
            {error ? `${shortTime(error.at)}: ${error.message}` : 'None'}
          </span>
        );
      },
    },
    sourceColumn<IntegrationView>(),
    {
      title: 'Actions',
      field: 'editable',
      render: row => (
        <Box display="flex" flexWrap="wrap" style={{ gap: 8 }}>
          <TestConnection integrationId={row.id} />
          {row.editable && (
            <Button size="small" onClick={() => setDeleting(row)}>
              Delete
            </Button>
          )}
        </Box>
      ),
    },
  ];

  return (
    <>
      <Box display="flex" alignItems="center" mb={2} style={{ gap: 16 }}>
        <Tooltip
          title={
            canStore === false
              ? 'Backstage has no secrets key configured (imApproval.secretsKey), so IM apps can only be defined in app-config.'
              : ''
          }
        >
          <span>
            <Button
              variant="contained"
              color="primary"
              style={{ whiteSpace: 'nowrap' }}
              disabled={!canStore}
              onClick={() => setOpen({ kind: 'new' })}
            >
              Add IM app
            </Button>
          </span>
        </Tooltip>
        <Typography variant="body2">
          An IM app is the Feishu / Lark, DingTalk or WeCom app that opens
          approvals and tells Backstage the decisions.
        </Typography>
      </Box>
      {health.value?.scope === 'replica' && (
        <Typography variant="caption" component="p">
          Connection, last event and last error are as seen by the backend
          replica that answered at {shortTime(health.value.observedAt)}; each
          replica holds its own connections.
        </Typography>
      )}
      <Table<IntegrationView>
        title="IM apps"
        columns={columns}
        data={integrations.value ?? []}
        options={{ ...TABLE_OPTIONS, paging: false, search: false }}
        emptyContent={
          <Typography style={{ padding: 16 }}>
            No IM app yet. Add one, or define one in app-config.
          </Typography>
        }
      />
      {open && (
        <IntegrationDialog
          existing={open.kind === 'existing' ? open.view : undefined}
          readOnly={open.kind === 'existing' && !open.view.editable}
          onSaved={refresh}
          onClose={() => setOpen(undefined)}
        />
      )}
      {deleting && (
        <ConfirmDelete
          what={`the IM app ${deleting.title ?? deleting.id}`}
          consequence={deleteConsequence(deleting)}
          blockedBy={blockedReason(usedBy(deleting.id))}
          onDelete={() => api.deleteIntegration(deleting.id)}
          onDone={() => {
            setDeleting(undefined);
            refresh();
          }}
          onClose={() => setDeleting(undefined)}
        />
      )}
    </>
  );
}

function blockedReason(templates: string[] | undefined): string | undefined {
  if (!templates?.length) return undefined;
  const names = templates.map(name => `"${name}"`).join(', ');
  return `Template${templates.length > 1 ? 's' : ''} ${names} use${templates.length > 1 ? '' : 's'} this app: change or delete ${templates.length > 1 ? 'them' : 'it'} first.`;
}
