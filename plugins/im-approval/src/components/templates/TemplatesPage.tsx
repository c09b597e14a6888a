import { Progress, Table, type TableColumn } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  imApprovalTemplateManagePermission,
  type TemplateView,
} from '@im-approval/plugin-im-approval-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import { makeStyles } from '@material-ui/core/styles';
import Typography from '@material-ui/core/Typography';
import { useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { imApprovalApiRef } from '../../api/ImApprovalApi';
import { ConfirmDelete } from '../shared/ConfirmDelete';
import { PermissionGate } from '../shared/PermissionGate';
import { RequestFailed } from '../shared/RequestFailed';
import { TABLE_OPTIONS } from '../shared/tableOptions';
import { SendTestApproval } from './SendTestApproval';
import { SourceChip } from '../shared/sourceColumn';
import { TemplateDialog } from './TemplateDialog';
import { WorkflowStepDialog } from './WorkflowStep';

/** The approval templates: those from app-config, read-only, and those managed here. */
export function TemplatesPage() {
  return (
    <PermissionGate
      permission={imApprovalTemplateManagePermission}
      what="manage approval templates"
    >
      <TemplatesTable />
    </PermissionGate>
  );
}

type Open = { kind: 'new' } | { kind: 'existing'; view: TemplateView };

const useStyles = makeStyles(theme => ({
  // A button's words stay on one line; a template's name as written, in line with the text below it.
  action: { whiteSpace: 'nowrap', flexShrink: 0 },
  name: {
    textTransform: 'none',
    textAlign: 'left',
    minWidth: 0,
    padding: theme.spacing(0.5, 0),
  },
}));

function TemplatesTable() {
  const api = useApi(imApprovalApiRef);
  const classes = useStyles();
  const templates = useAsyncRetry(() => api.listTemplates(), [api]);
  // The dialog picks an IM app from these; without them a template cannot be made.
  const integrations = useAsyncRetry(() => api.listIntegrations(), [api]);
  const [open, setOpen] = useState<Open>();
  const [testing, setTesting] = useState<TemplateView>();
  const [using, setUsing] = useState<TemplateView>();
  const [deleting, setDeleting] = useState<TemplateView>();

  if (
    (templates.loading && !templates.value) ||
    (integrations.loading && !integrations.value)
  )
    return <Progress />;
  if (templates.error)
    return (
      <RequestFailed
        error={templates.error}
        what="read the templates"
        onRetry={templates.retry}
      />
    );
  if (integrations.error)
    return (
      <RequestFailed
        error={integrations.error}
        what="read the IM apps templates use"
        onRetry={integrations.retry}
      />
    );
  const apps = integrations.value ?? [];

  // Four columns of a few short lines (where it is defined under the name), so the table fits a 1024 px window.
  const columns: TableColumn<TemplateView>[] = [
    {
      title: 'Template',
      field: 'name',
      render: row => (
        <>
          <Button
            color="primary"
            className={classes.name}
            onClick={() => setOpen({ kind: 'existing', view: row })}
          >
            {row.name}
          </Button>
          {row.description && (
            <Typography variant="body2" color="textSecondary">
              {row.description}
            </Typography>
          )}
          <SourceChip source={row.source} />
        </>
      ),
    },
    {
      title: 'IM app and form',
      field: 'integration',
      render: row => (
        <>
          <Typography variant="body2">{row.integration}</Typography>
          <Typography variant="body2" color="textSecondary">
            form {row.form}
          </Typography>
        </>
      ),
    },
    {
      title: 'Approvers',
      field: 'approvers',
      render: row => (
        <>
          <Typography variant="body2">{row.approvers.join(', ')}</Typography>
          <Typography variant="body2" color="textSecondary">
            {row.approverMode === 'all'
              ? 'all of them approve'
              : 'any one of them approves'}
          </Typography>
        </>
      ),
    },
    {
      title: 'Actions',
      field: 'editable',
      render: row => (
        <Box display="flex" flexDirection="column" alignItems="flex-start">
          <Button
            size="small"
            className={classes.action}
            onClick={() => setUsing(row)}
          >
            Use in a workflow
          </Button>
          <Button
            size="small"
            className={classes.action}
            onClick={() => setTesting(row)}
          >
            Send test approval
          </Button>
          {row.editable && (
            <Button
              size="small"
              className={classes.action}
              onClick={() => setDeleting(row)}
            >
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
        <Button
          variant="contained"
          color="primary"
          className={classes.action}
          disabled={apps.length === 0}
          onClick={() => setOpen({ kind: 'new' })}
        >
          Add template
        </Button>
        <Typography variant="body2">
          {apps.length === 0
            ? 'Add an IM app first: a template opens its approvals through one.'
            : 'A template is what a workflow step names: the IM form, how its fields are filled, who approves and who may ask.'}
        </Typography>
      </Box>
      <Table<TemplateView>
        title="Templates"
        columns={columns}
        data={templates.value ?? []}
        options={{ ...TABLE_OPTIONS, paging: false, search: false }}
        emptyContent={
          <Typography style={{ padding: 16 }}>
            No template yet. Add one, or define one in app-config.
          </Typography>
        }
      />
      {open && (
        <TemplateDialog
          existing={open.kind === 'existing' ? open.view : undefined}
          integrations={apps}
          onSaved={() => {
            setOpen(undefined);
            templates.retry();
          }}
          onClose={() => setOpen(undefined)}
        />
      )}
      {testing && (
        <SendTestApproval
          template={testing}
          onClose={() => setTesting(undefined)}
        />
      )}
      {using && (
        <WorkflowStepDialog
          template={using}
          onClose={() => setUsing(undefined)}
        />
      )}
      {deleting && (
        <ConfirmDelete
          what={`the template ${deleting.name}`}
          consequence="Workflow steps that name it fail until it exists again."
          onDelete={() => api.deleteTemplate(deleting.name)}
          onDone={() => {
            setDeleting(undefined);
            templates.retry();
          }}
          onClose={() => setDeleting(undefined)}
        />
      )}
    </>
  );
}
