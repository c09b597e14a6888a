import {
  Progress,
  ResponseErrorPanel,
  Table,
  type TableColumn,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  imApprovalIntegrationManagePermission,
  type IntegrationView,
} from '@im-approval/plugin-im-approval-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Tooltip from '@material-ui/core/Tooltip';
import Typography from '@material-ui/core/Typography';
import { useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { imApprovalApiRef } from '../../api/ImApprovalApi';
import { providerDescriptor } from '../../providers';
import { ConfirmDelete } from '../shared/ConfirmDelete';
import { PermissionGate } from '../shared/PermissionGate';
import { sourceColumn } from '../shared/sourceColumn';
import { IntegrationDialog } from './IntegrationDialog';

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
  const [open, setOpen] = useState<Open>();
  const [deleting, setDeleting] = useState<IntegrationView>();

  if (integrations.loading && !integrations.value) return <Progress />;
  if (integrations.error)
    return <ResponseErrorPanel error={integrations.error} />;

  // Unknown until the capabilities arrive: the button waits, without claiming a missing key.
  const canStore = capabilities.value?.databaseSettings;
  const columns: TableColumn<IntegrationView>[] = [
    {
      title: 'IM app',
      field: 'id',
      render: row => (
        <Button
          color="primary"
          onClick={() => setOpen({ kind: 'existing', view: row })}
        >
          {row.title ?? row.id}
        </Button>
      ),
    },
    { title: 'ID', field: 'id' },
    {
      title: 'IM',
      field: 'provider',
      render: row => providerDescriptor(row.provider).label,
    },
    {
      title: 'Connection',
      field: 'connectionMode',
      render: row =>
        providerDescriptor(row.provider).connectionModes.find(
          m => m.value === row.connectionMode,
        )?.label ?? row.connectionMode,
    },
    sourceColumn<IntegrationView>(),
    {
      title: '',
      field: 'editable',
      render: row =>
        row.editable && (
          <Button size="small" onClick={() => setDeleting(row)}>
            Delete
          </Button>
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
              disabled={!canStore}
              onClick={() => setOpen({ kind: 'new' })}
            >
              Add IM app
            </Button>
          </span>
        </Tooltip>
        <Typography variant="body2" color="textSecondary">
          An IM app is the Feishu / Lark, DingTalk or WeCom app that opens
          approvals and tells Backstage the decisions.
        </Typography>
      </Box>
      <Table<IntegrationView>
        title="IM apps"
        columns={columns}
        data={integrations.value ?? []}
        options={{ paging: false, search: false, padding: 'dense' }}
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
          onSaved={() => integrations.retry()}
          onClose={() => setOpen(undefined)}
        />
      )}
      {deleting && (
        <ConfirmDelete
          what={`the IM app ${deleting.title ?? deleting.id}`}
          consequence="Templates that use it stop working until they name another app."
          onDelete={() => api.deleteIntegration(deleting.id)}
          onDone={() => {
            setDeleting(undefined);
            integrations.retry();
          }}
          onClose={() => setDeleting(undefined)}
        />
      )}
    </>
  );
}
