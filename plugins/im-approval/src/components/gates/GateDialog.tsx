import { useApi } from '@backstage/core-plugin-api';
import {
  formatDuration,
  gateRequestSchema,
  type GateView,
  type TemplateView,
} from '@im-approval/plugin-im-approval-common';
import Button from '@material-ui/core/Button';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import Alert from '@material-ui/lab/Alert';
import { useState } from 'react';
import useAsyncFn from 'react-use/esm/useAsyncFn';
import { imApprovalApiRef } from '../../api/ImApprovalApi';
import { ErrorAlert } from '../shared/ErrorAlert';
import { fieldErrors } from '../shared/fieldErrors';
import { TitledDialog } from '../shared/TitledDialog';

interface GateForm {
  name: string;
  environments: string;
  repositories: string;
  template: string;
  variables: string;
  timeout: string;
}

const list = (text: string) =>
  text
    .split(/[,\n]/)
    .map(item => item.trim())
    .filter(Boolean);

function formOf(gate: GateView | undefined, template: string): GateForm {
  return {
    name: gate?.name ?? '',
    environments: gate?.environments.join(', ') ?? 'production',
    repositories: gate?.repositories?.join(', ') ?? '',
    template: gate?.template ?? template,
    variables: Object.entries(gate?.variables ?? {})
      .map(([name, value]) => `${name}=${value}`)
      .join('\n'),
    timeout: gate?.timeout === undefined ? '' : formatDuration(gate.timeout),
  };
}

/** What the form says, as the API takes it. */
function requestOf(form: GateForm) {
  const repositories = list(form.repositories);
  return {
    name: form.name.trim(),
    environments: list(form.environments),
    ...(repositories.length > 0 ? { repositories } : {}),
    template: form.template,
    variables: Object.fromEntries(
      form.variables
        .split('\n')
        .map(line => line.trim())
        .filter(Boolean)
        .map(line => {
          const at = line.indexOf('=');
          return at < 0
            ? [line, '']
            : [line.slice(0, at).trim(), line.slice(at + 1).trim()];
        }),
    ),
    ...(form.timeout.trim() ? { timeout: form.timeout.trim() } : {}),
  };
}

/** Creates, edits or (for gates from app-config) shows one deployment gate. */
export function GateDialog(props: {
  existing?: GateView;
  templates: TemplateView[];
  onSaved: () => void;
  onClose: () => void;
}) {
  const api = useApi(imApprovalApiRef);
  const readOnly = props.existing ? !props.existing.editable : false;
  const [form, setForm] = useState(() =>
    formOf(props.existing, props.templates[0]?.name ?? ''),
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saving, save] = useAsyncFn(async () => {
    const request = requestOf(form);
    const checked = gateRequestSchema.safeParse(request);
    if (!checked.success) {
      setErrors(fieldErrors(checked.error));
      return;
    }
    setErrors({});
    if (props.existing) await api.updateGate(props.existing.name, request);
    else await api.createGate(request);
    props.onSaved();
  }, [form, props.existing]);

  const field = (
    key: keyof GateForm,
    label: string,
    help: string,
    extra: object = {},
  ) => (
    <TextField
      id={`gate-${key}`}
      fullWidth
      margin="dense"
      label={label}
      value={form[key]}
      disabled={readOnly}
      error={Boolean(errors[key])}
      helperText={errors[key] ?? help}
      onChange={event => setForm({ ...form, [key]: event.target.value })}
      {...extra}
    />
  );

  return (
    <TitledDialog
      title={props.existing ? `Gate ${props.existing.name}` : 'New gate'}
      onClose={props.onClose}
      fullWidth
      maxWidth="sm"
    >
      <DialogContent>
        {readOnly && (
          <Alert severity="info">
            This gate is defined in app-config and changes only there.
          </Alert>
        )}
        {field('name', 'Name', 'Letters, digits, dots, dashes, underscores', {
          disabled: readOnly || Boolean(props.existing),
        })}
        {field(
          'environments',
          'Environments',
          'Names or globs, comma-separated: production, prod-*',
        )}
        {field(
          'repositories',
          'Repositories',
          'owner/name globs, comma-separated; empty: every repository the App is installed on',
        )}
        <TextField
          id="gate-template"
          select
          fullWidth
          margin="dense"
          label="Template"
          value={form.template}
          disabled={readOnly}
          error={Boolean(errors.template)}
          helperText={
            errors.template ??
            'Its approvers, IM and policy apply to every job this gate holds'
          }
          onChange={event => setForm({ ...form, template: event.target.value })}
        >
          {props.templates.map(template => (
            <MenuItem key={template.name} value={template.name}>
              {template.name}
            </MenuItem>
          ))}
        </TextField>
        {field(
          'variables',
          'Variables',
          'One NAME=value per line, for the template’s ${vars.NAME}; values may use ${repository}, ${ref}, ${sha}, ${actor}',
          { multiline: true, minRows: 2 },
        )}
        {field(
          'timeout',
          'Timeout',
          'e.g. 4h or 2d; empty: the template’s default',
        )}
        <ErrorAlert error={saving.error} />
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onClose}>{readOnly ? 'Close' : 'Cancel'}</Button>
        {!readOnly && (
          <Button
            color="primary"
            variant="contained"
            disabled={saving.loading}
            onClick={() => save()}
          >
            Save
          </Button>
        )}
      </DialogActions>
    </TitledDialog>
  );
}
