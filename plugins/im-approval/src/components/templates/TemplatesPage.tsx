import { Progress, Table, type TableColumn } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  existingFormOf,
  formatDuration,
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
import { providerDescriptor } from '../../providers';
import { ConfirmDelete } from '../shared/ConfirmDelete';
import { PermissionGate } from '../shared/PermissionGate';
import { RequestFailed } from '../shared/RequestFailed';
import { TABLE_OPTIONS } from '../shared/tableOptions';
import { SendTestApproval } from './SendTestApproval';
import { SourceChip } from '../shared/sourceColumn';
import {
  ManagedFormDialog,
  ManagedFormStatus,
  saveFormLabel,
} from './ManagedForm';
import { ruleText, stageTitle } from '../shared/stages';
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
  stages: { margin: 0, paddingLeft: theme.spacing(2.5) },
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
  const [makingForm, setMakingForm] = useState<TemplateView>();

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
  const imOf = (template: TemplateView) => {
    const app = apps.find(a => a.id === template.integration);
    return app ? providerDescriptor(app.provider).label : 'the IM';
  };

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
          {existingFormOf(row) === undefined ? (
            <ManagedFormStatus managedForm={row.managedForm} compact />
          ) : (
            <Typography variant="body2" color="textSecondary">
              form {existingFormOf(row)}
            </Typography>
          )}
        </>
      ),
    },
    {
      title: 'Approvers',
      field: 'approvers',
      render: row => (
        <>
          {row.stages ? (
            <ol className={classes.stages}>
              {row.stages.map((stage, index) => (
                <li key={index}>
                  <Typography variant="body2">
                    {stageTitle(stage, index)}: {stage.approvers.join(', ')}
                  </Typography>
                  <Typography variant="body2" color="textSecondary">
                    {ruleText(stage.rule, stage.atLeast)}
                  </Typography>
                </li>
              ))}
            </ol>
          ) : (
            <>
              <Typography variant="body2">
                {(row.approvers ?? []).join(', ')}
              </Typography>
              <Typography variant="body2" color="textSecondary">
                {ruleText(row.approverMode)}
              </Typography>
            </>
          )}
          {row.cc.length > 0 && (
            <Typography variant="body2" color="textSecondary">
              CC: {row.cc.join(', ')}
            </Typography>
          )}
          {row.remindAfter !== undefined && (
            <Typography variant="body2" color="textSecondary">
              Reminded every {formatDuration(row.remindAfter)}
            </Typography>
          )}
          {row.escalateTo && row.escalateAfter !== undefined && (
            <Typography variant="body2" color="textSecondary">
              Escalated to {row.escalateTo.join(', ')} after{' '}
              {formatDuration(row.escalateAfter)}
            </Typography>
          )}
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
          {existingFormOf(row) === undefined && (
            <Button
              size="small"
              className={classes.action}
              onClick={() => setMakingForm(row)}
            >
              {saveFormLabel(row.managedForm)}
            </Button>
          )}
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
      {makingForm && (
        <ManagedFormDialog
          template={makingForm}
          im={imOf(makingForm)}
          onSaved={templates.retry}
          onClose={() => setMakingForm(undefined)}
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
