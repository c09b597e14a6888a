import { useApi } from '@backstage/core-plugin-api';
import type {
  FormField,
  IntegrationView,
  TemplateView,
} from '@im-approval/plugin-im-approval-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Checkbox from '@material-ui/core/Checkbox';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import Grid from '@material-ui/core/Grid';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import Alert from '@material-ui/lab/Alert';
import { useState } from 'react';
import useAsyncFn from 'react-use/esm/useAsyncFn';
import { imApprovalApiRef } from '../../api/ImApprovalApi';
import { providerDescriptor } from '../../providers';
import { ErrorAlert } from '../shared/ErrorAlert';
import { errorMessage } from '../shared/errorMessage';
import { TitledDialog } from '../shared/TitledDialog';
import { CatalogPeoplePicker } from './CatalogPeoplePicker';
import { FieldMappingEditor } from './FieldMappingEditor';
import {
  newTemplateForm,
  prepareSave,
  templateFormFrom,
  type TemplateFormState,
} from './templateForm';
import { VariablesHelp } from './VariablesHelp';

/** The template's policy, one list input each; the API reports their errors under `policy`. */
const POLICY_INPUTS = [
  {
    key: 'repositories',
    label: 'Allowed repositories',
    help: 'Glob patterns such as my-org/*; empty allows every repository.',
  },
  {
    key: 'refs',
    label: 'Allowed refs',
    help: 'e.g. refs/heads/main, refs/tags/v*; empty allows every ref.',
  },
  {
    key: 'environments',
    label: 'Allowed environments',
    help: 'e.g. production; empty allows every environment (and jobs without one).',
  },
] as const;

/** Creates, edits or (for templates from app-config) shows one approval template. */
export function TemplateDialog(props: {
  existing?: TemplateView;
  integrations: IntegrationView[];
  onSaved: (view: TemplateView) => void;
  onClose: () => void;
}) {
  const api = useApi(imApprovalApiRef);
  const readOnly = props.existing ? !props.existing.editable : false;
  const [form, setForm] = useState<TemplateFormState>(() =>
    props.existing
      ? templateFormFrom(props.existing)
      : newTemplateForm(props.integrations[0]?.id),
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saving, runSave] = useAsyncFn(
    async (save: () => Promise<TemplateView>) => props.onSaved(await save()),
  );
  const [imFields, setImFields] = useState<FormField[]>();
  const [loadProblem, setLoadProblem] = useState<string>();

  const integration = props.integrations.find(i => i.id === form.integration);
  const formIdLabel = integration
    ? providerDescriptor(integration.provider).formIdLabel
    : 'IM form ID';

  const text = (key: keyof TemplateFormState) => ({
    value: form[key] as string,
    disabled: readOnly,
    error: Boolean(errors[key]),
    onChange: (event: { target: { value: string } }) =>
      setForm({ ...form, [key]: event.target.value }),
  });

  const loadFields = async () => {
    setLoadProblem(undefined);
    try {
      const description = await api.describeForm(
        form.integration,
        form.form.trim(),
      );
      setImFields(description.fields);
      // Start a new mapping with one row per field of the IM form.
      if (form.fields.length === 0)
        setForm({
          ...form,
          fields: description.fields.map(field => ({
            field: field.id,
            value: '',
          })),
        });
    } catch (e) {
      setImFields(undefined);
      setLoadProblem(errorMessage(e as Error));
    }
  };

  const save = async () => {
    const prepared = prepareSave(api, form, props.existing?.name);
    if (!prepared.ok) {
      setErrors(prepared.errors);
      return;
    }
    setErrors({});
    await runSave(prepared.save);
  };

  return (
    <TitledDialog
      title={
        props.existing ? `Template ${props.existing.name}` : 'New template'
      }
      onClose={props.onClose}
      fullWidth
      maxWidth="lg"
    >
      <DialogContent>
        {readOnly && (
          <Alert severity="info">
            This template is defined in app-config and changes only there.
          </Alert>
        )}
        <Grid container spacing={3}>
          <Grid item xs={12} md={8}>
            <TextField
              id="template-name"
              fullWidth
              margin="dense"
              label="Name"
              required
              {...text('name')}
              disabled={readOnly || Boolean(props.existing)}
              helperText={
                errors.name ??
                'What a workflow step names (template: …); never changes.'
              }
            />
            <TextField
              id="template-description"
              fullWidth
              margin="dense"
              label="Description"
              {...text('description')}
              helperText={errors.description}
            />
            <TextField
              id="template-im-app"
              select
              fullWidth
              margin="dense"
              label="IM app"
              required
              {...text('integration')}
              helperText={errors.integration}
            >
              {props.integrations.map(option => (
                <MenuItem key={option.id} value={option.id}>
                  {option.title ?? option.id} (
                  {providerDescriptor(option.provider).label})
                </MenuItem>
              ))}
            </TextField>
            <Box display="flex" alignItems="flex-start" style={{ gap: 8 }}>
              <TextField
                id="template-form-id"
                fullWidth
                margin="dense"
                label={formIdLabel}
                required
                {...text('form')}
                helperText={loadProblem ?? errors.form}
                error={Boolean(loadProblem ?? errors.form)}
              />
              <Button
                style={{ marginTop: 16, whiteSpace: 'nowrap' }}
                variant="outlined"
                disabled={!form.integration || !form.form.trim()}
                onClick={loadFields}
              >
                Load fields
              </Button>
            </Box>
            <TextField
              id="template-approval-title"
              fullWidth
              margin="dense"
              label="Approval title"
              required
              {...text('title')}
              helperText={errors.title ?? 'May use ${…} variables.'}
            />
            <FieldMappingEditor
              rows={form.fields}
              imFields={imFields}
              disabled={readOnly}
              error={errors.fields}
              onChange={fields => setForm({ ...form, fields })}
            />
            <TextField
              id="template-approvers"
              fullWidth
              multiline
              margin="dense"
              label="Approvers"
              required
              {...text('approvers')}
              helperText={
                errors.approvers ??
                'Catalog users and groups (user:default/alice, group:default/release-managers), or IM user ids, emails or mobiles; one per line or separated by commas.'
              }
            />
            <CatalogPeoplePicker
              disabled={readOnly}
              onPick={ref =>
                setForm(current => ({
                  ...current,
                  approvers: [current.approvers.trim(), ref]
                    .filter(Boolean)
                    .join('\n'),
                }))
              }
            />
            <TextField
              id="template-approvers-decide"
              select
              fullWidth
              margin="dense"
              label="Approvers decide"
              {...text('approverMode')}
              helperText={errors.approverMode}
            >
              <MenuItem value="any">Any one of them approves</MenuItem>
              <MenuItem value="all">All of them approve</MenuItem>
            </TextField>
            {(
              [
                [
                  'allowApproverOverride',
                  'A workflow step may name other approvers',
                ],
                [
                  'allowSelfApproval',
                  'The person who asks may approve their own request',
                ],
              ] as const
            ).map(([flag, label]) => (
              <FormControlLabel
                key={flag}
                label={label}
                control={
                  <Checkbox
                    checked={form[flag]}
                    disabled={readOnly}
                    onChange={event =>
                      setForm({ ...form, [flag]: event.target.checked })
                    }
                  />
                }
              />
            ))}
            <Box display="flex" style={{ gap: 16 }}>
              <TextField
                id="template-default-timeout"
                margin="dense"
                label="Default timeout"
                {...text('defaultTimeout')}
                helperText={errors.defaultTimeout ?? 'e.g. 30m, 2h, 1d'}
              />
              <TextField
                id="template-maximum-timeout"
                margin="dense"
                label="Maximum timeout"
                {...text('maxTimeout')}
                helperText={errors.maxTimeout}
              />
            </Box>
            {POLICY_INPUTS.map(input => (
              <TextField
                key={input.key}
                id={`template-allowed-${input.key}`}
                fullWidth
                multiline
                margin="dense"
                label={input.label}
                {...text(input.key)}
                helperText={input.help}
              />
            ))}
            {errors.policy && <Alert severity="error">{errors.policy}</Alert>}
            {errors[''] && <Alert severity="error">{errors['']}</Alert>}
            <ErrorAlert error={saving.error} />
          </Grid>
          <Grid item xs={12} md={4}>
            <VariablesHelp />
          </Grid>
        </Grid>
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onClose}>Close</Button>
        {!readOnly && (
          <Button
            color="primary"
            variant="contained"
            disabled={saving.loading}
            onClick={save}
          >
            {props.existing ? 'Save' : 'Create'}
          </Button>
        )}
      </DialogActions>
    </TitledDialog>
  );
}
