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
import FormControl from '@material-ui/core/FormControl';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import FormHelperText from '@material-ui/core/FormHelperText';
import FormLabel from '@material-ui/core/FormLabel';
import Grid from '@material-ui/core/Grid';
import MenuItem from '@material-ui/core/MenuItem';
import Radio from '@material-ui/core/Radio';
import RadioGroup from '@material-ui/core/RadioGroup';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
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
import { FormPlan, ManagedFormStatus } from './ManagedForm';
import { emptyStage, StagesEditor } from './StagesEditor';
import {
  APPROVERS_HELP,
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

/** A choice between two ways, as radio buttons under a legend. */
function Choice<T extends string>(props: {
  legend: string;
  name: string;
  value: T;
  options: ReadonlyArray<[T, string]>;
  disabled: boolean;
  onChange: (value: T) => void;
}) {
  return (
    <FormControl component="fieldset" margin="dense" fullWidth>
      <FormLabel component="legend">{props.legend}</FormLabel>
      <RadioGroup
        row
        name={props.name}
        value={props.value}
        onChange={event => props.onChange(event.target.value as T)}
      >
        {props.options.map(([value, label]) => (
          <FormControlLabel
            key={value}
            value={value}
            label={label}
            disabled={props.disabled}
            control={<Radio color="primary" />}
          />
        ))}
      </RadioGroup>
    </FormControl>
  );
}

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
  const descriptor = integration && providerDescriptor(integration.provider);
  const formIdLabel = descriptor?.formIdLabel ?? 'IM form ID';
  const creatingForm = form.formSource === 'create';
  const withStages = form.approval === 'stages';

  /** A change clears the messages of what it changed, and the form-wide one, as it is typed. */
  const change = (next: TemplateFormState, ...cleared: string[]) => {
    setForm(next);
    setErrors(current => {
      const kept = { ...current };
      for (const key of [...cleared, '']) delete kept[key];
      return kept;
    });
  };
  const text = (key: keyof TemplateFormState) => ({
    value: form[key] as string,
    disabled: readOnly,
    error: Boolean(errors[key]),
    onChange: (event: { target: { value: string } }) =>
      change({ ...form, [key]: event.target.value }, key),
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
        change({
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
            <Choice
              legend="IM form"
              name="template-form-source"
              value={form.formSource}
              options={[
                ['existing', 'Use an existing form'],
                ['create', 'Create the form in the IM'],
              ]}
              disabled={readOnly}
              onChange={formSource =>
                change({ ...form, formSource }, 'form', 'fields')
              }
            />
            {creatingForm ? (
              <Box mb={1}>
                <FormPlan
                  im={descriptor?.label ?? 'the IM'}
                  fields={form.fields
                    .map(row => row.field.trim())
                    .filter(Boolean)}
                  stages={
                    withStages
                      ? form.stages.map(stage => ({
                          name: stage.name.trim() || undefined,
                          rule: stage.rule === 'atLeast' ? 'all' : stage.rule,
                          atLeast:
                            stage.rule === 'atLeast'
                              ? Number(stage.atLeast) || undefined
                              : undefined,
                        }))
                      : [{ rule: form.approverMode }]
                  }
                />
                {props.existing?.managedForm !== undefined && (
                  <ManagedFormStatus managedForm={props.existing.managedForm} />
                )}
                {errors.form && (
                  <Typography variant="body2" color="error">
                    {errors.form}
                  </Typography>
                )}
              </Box>
            ) : (
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
            )}
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
              imFields={creatingForm ? undefined : imFields}
              fieldLabel={creatingForm ? 'Label in the IM form' : 'IM field'}
              disabled={readOnly}
              error={errors.fields}
              onChange={fields => change({ ...form, fields }, 'fields')}
            />
            <Choice
              legend="Who approves"
              name="template-approval"
              value={form.approval}
              options={[
                ['single', 'One group of approvers'],
                ['stages', 'Several stages, in order'],
              ]}
              disabled={readOnly}
              onChange={approval =>
                change(
                  {
                    ...form,
                    approval,
                    // The approvers typed so far become the first stage.
                    stages:
                      approval === 'stages' && form.stages.length === 0
                        ? [
                            {
                              name: '',
                              approvers: form.approvers,
                              rule: form.approverMode,
                              atLeast: '',
                            },
                            emptyStage(),
                          ]
                        : form.stages,
                  },
                  'approvers',
                  'stages',
                  'allowApproverOverride',
                )
              }
            />
            {withStages ? (
              <StagesEditor
                stages={form.stages}
                errors={errors}
                disabled={readOnly}
                onChange={(stages, cleared) =>
                  change({ ...form, stages }, ...cleared)
                }
              />
            ) : (
              <>
                <TextField
                  id="template-approvers"
                  fullWidth
                  multiline
                  margin="dense"
                  label="Approvers"
                  required
                  {...text('approvers')}
                  helperText={errors.approvers ?? APPROVERS_HELP}
                />
                <CatalogPeoplePicker
                  disabled={readOnly}
                  onPick={ref =>
                    change(
                      {
                        ...form,
                        approvers: [form.approvers.trim(), ref]
                          .filter(Boolean)
                          .join('\n'),
                      },
                      'approvers',
                    )
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
              </>
            )}
            <TextField
              id="template-cc"
              fullWidth
              multiline
              margin="dense"
              label="CC"
              {...text('cc')}
              helperText={
                errors.cc ??
                `Told of each request and able to see it, never asked to decide (抄送). ${APPROVERS_HELP}`
              }
            />
            <CatalogPeoplePicker
              id="template-cc-catalog"
              disabled={readOnly}
              label="Add a user or group from the catalog to CC"
              groupHelp="A group tells its members, and those of the groups inside it, when a request is opened."
              onPick={ref =>
                change(
                  {
                    ...form,
                    cc: [form.cc.trim(), ref].filter(Boolean).join('\n'),
                  },
                  'cc',
                )
              }
            />
            <Box>
              <FormControlLabel
                label="A workflow step may name other approvers"
                control={
                  <Checkbox
                    checked={form.allowApproverOverride && !withStages}
                    disabled={readOnly || withStages}
                    inputProps={{
                      'aria-describedby': withStages
                        ? 'template-override-reason'
                        : undefined,
                    }}
                    onChange={event =>
                      change(
                        {
                          ...form,
                          allowApproverOverride: event.target.checked,
                        },
                        'allowApproverOverride',
                      )
                    }
                  />
                }
              />
              {withStages && (
                <FormHelperText id="template-override-reason">
                  Not with stages: the approvers a workflow step names could not
                  say which stage they replace.
                </FormHelperText>
              )}
              {errors.allowApproverOverride && (
                <FormHelperText error>
                  {errors.allowApproverOverride}
                </FormHelperText>
              )}
            </Box>
            <FormControlLabel
              label="The person who asks may approve their own request"
              control={
                <Checkbox
                  checked={form.allowSelfApproval}
                  disabled={readOnly}
                  onChange={event =>
                    change(
                      { ...form, allowSelfApproval: event.target.checked },
                      'allowSelfApproval',
                    )
                  }
                />
              }
            />
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
            <TextField
              id="template-group-chat"
              fullWidth
              margin="dense"
              label="Group chat"
              {...text('groupChat')}
              helperText={
                errors.groupChat ??
                'Where each request gets a card: a Feishu chat_id (oc_…, the app’s bot in it, decided from the card), a DingTalk openConversationId (cid…, the app’s robot in it, the integration’s card template, Stream), or a chat the WeCom app created (its card links to the request).'
              }
            />
            <TextField
              id="template-remind-after"
              margin="dense"
              label="Remind approvers every"
              {...text('remindAfter')}
              helperText={
                errors.remindAfter ??
                'Empty: never. A direct message in the IM to those it still waits on, with the request’s link.'
              }
            />
            <Box display="flex" style={{ gap: 16 }}>
              <TextField
                id="template-escalate-after"
                margin="dense"
                label="Escalate after"
                {...text('escalateAfter')}
                helperText={errors.escalateAfter ?? 'e.g. 4h; empty: never'}
              />
              <TextField
                id="template-escalate-to"
                fullWidth
                multiline
                margin="dense"
                label="Escalate to"
                {...text('escalateTo')}
                helperText={
                  errors.escalateTo ??
                  `Added as approvers where the IM lets the app (Feishu, where any one approver decides), told by a direct message with a link otherwise. ${APPROVERS_HELP}`
                }
              />
            </Box>
            <CatalogPeoplePicker
              id="template-escalate-catalog"
              disabled={readOnly}
              label="Add a user or group from the catalog to escalate to"
              groupHelp="A group is expanded into its members, and those of the groups inside it, when a request is opened."
              onPick={ref =>
                change(
                  {
                    ...form,
                    escalateTo: [form.escalateTo.trim(), ref]
                      .filter(Boolean)
                      .join('\n'),
                  },
                  'escalateTo',
                )
              }
            />
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
