import { useApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import type {
  ConnectionMode,
  CreateIntegrationRequest,
  IntegrationView,
  ProviderId,
} from '@im-approval/plugin-im-approval-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import Alert from '@material-ui/lab/Alert';
import { useState } from 'react';
import useAsyncFn from 'react-use/esm/useAsyncFn';
import { imApprovalApiRef } from '../../api/ImApprovalApi';
import { PROVIDERS, providerDescriptor } from '../../providers';
import { errorMessage } from '../shared/errorMessage';
import { ErrorAlert } from '../shared/ErrorAlert';
import { CallbackSetup } from './CallbackSetup';
import {
  checkForm,
  errorsFromMessage,
  type CheckedRequest,
  fieldsInMode,
  integrationFormFrom,
  isSecretField,
  newIntegrationForm,
  type FormErrors,
  type IntegrationFormState,
} from './integrationForm';
import { TestConnectionButton } from './TestConnection';
import { TitledDialog } from '../shared/TitledDialog';

const FIX_FIELDS =
  'Not tested: some fields need correcting first (see the messages under them).';

/**
 * Creates, edits or (for apps from app-config, which change only there) shows one IM app: the IM
 * and its connection mode first, then only the fields that mode uses. Test connection tries the
 * values as typed, before they are saved. After creating, the dialog stays open on the saved app
 * so its callback URL can be copied.
 */
export function IntegrationDialog(props: {
  existing?: IntegrationView;
  readOnly: boolean;
  onSaved: (view: IntegrationView) => void;
  onClose: () => void;
}) {
  const api = useApi(imApprovalApiRef);
  const [saved, setSaved] = useState(props.existing);
  const [form, setForm] = useState<IntegrationFormState>(() =>
    props.existing
      ? integrationFormFrom(props.existing)
      : newIntegrationForm('feishu'),
  );
  const [errors, setErrors] = useState<FormErrors>({});
  // Bumped on every change: an old test result says nothing about the values now typed.
  const [version, setVersion] = useState(0);
  // Whether the form differs from the saved app, so that testing it needs the values as typed.
  const [changed, setChanged] = useState(false);
  const descriptor = providerDescriptor(form.provider);
  const readOnly = props.readOnly;

  /** Shows a 400 that names fields under them (true); other failures are for the caller to show. */
  const showRefusal = (error: unknown): boolean => {
    if (!(error instanceof ResponseError && error.statusCode === 400))
      return false;
    const refused = errorsFromMessage(form, errorMessage(error));
    if (!Object.keys(refused).some(name => name !== '')) return false;
    setErrors(refused);
    return true;
  };

  const [saving, runSave] = useAsyncFn(
    async (request: CheckedRequest) => {
      try {
        const view = saved
          ? await api.updateIntegration(saved.id, request)
          : // Without a saved app the form was checked as a whole new one.
            await api.createIntegration(request as CreateIntegrationRequest);
        setSaved(view);
        setForm(integrationFormFrom(view));
        setVersion(v => v + 1);
        setChanged(false);
        props.onSaved(view);
      } catch (error) {
        if (!showRefusal(error)) throw error;
      }
    },
    [api, form, saved],
  );
  // Checked at once, so a message shows in the same moment as the click.
  const save = () => {
    const checked = checkForm(form, saved);
    setErrors(checked.ok ? {} : checked.errors);
    if (checked.ok) runSave(checked.request);
  };

  const testConnection = async () => {
    // An untouched form shows what is saved; app-config's apps are tested as they are.
    if (saved && (readOnly || !changed)) return api.testIntegration(saved.id);
    const checked = checkForm(form, saved);
    setErrors(checked.ok ? {} : checked.errors);
    // Said beside the button too: the fields to fix may be scrolled out of sight.
    if (!checked.ok) throw new Error(FIX_FIELDS);
    try {
      return await api.testIntegrationSettings(checked.request);
    } catch (error) {
      throw showRefusal(error) ? new Error(FIX_FIELDS) : error;
    }
  };

  const change = (next: IntegrationFormState, ...cleared: string[]) => {
    setForm(next);
    setVersion(v => v + 1);
    setChanged(true);
    setErrors(current => {
      const kept = { ...current };
      for (const name of [...cleared, '']) delete kept[name];
      return kept;
    });
  };
  const setValue = (name: string, value: string) =>
    change({ ...form, values: { ...form.values, [name]: value } }, name);
  const setMode = (connectionMode: ConnectionMode) =>
    change(
      { ...form, connectionMode },
      'connectionMode',
      // The fields a mode shows or hides come and go with it, and so do their messages.
      ...descriptor.fields.filter(f => f.modes).map(f => f.name),
    );
  const secretSet = (name: string) =>
    Boolean(saved && (saved.secrets as Record<string, boolean>)[name]);
  const mode = descriptor.connectionModes.find(
    m => m.value === form.connectionMode,
  );

  return (
    <TitledDialog
      title={saved ? `IM app ${saved.title ?? saved.id}` : 'New IM app'}
      onClose={props.onClose}
      fullWidth
      maxWidth="md"
    >
      <DialogContent>
        {readOnly && saved?.source === 'config' && (
          <Alert severity="info">
            This app is defined in app-config and changes only there.
          </Alert>
        )}
        <TextField
          id="integration-im"
          select
          fullWidth
          margin="dense"
          label="IM"
          value={form.provider}
          disabled={readOnly || Boolean(saved)}
          onChange={event =>
            change(
              newIntegrationForm(event.target.value as ProviderId),
              ...Object.keys(errors),
            )
          }
        >
          {Object.values(PROVIDERS).map(provider => (
            <MenuItem key={provider.provider} value={provider.provider}>
              {provider.label}
            </MenuItem>
          ))}
        </TextField>
        <TextField
          id="integration-connection-mode"
          select
          fullWidth
          margin="dense"
          label="Connection mode"
          value={form.connectionMode}
          disabled={readOnly}
          onChange={event => setMode(event.target.value as ConnectionMode)}
          error={Boolean(errors.connectionMode)}
          helperText={errors.connectionMode ?? mode?.description}
        >
          {descriptor.connectionModes.map(m => (
            <MenuItem key={m.value} value={m.value}>
              {m.label}
            </MenuItem>
          ))}
        </TextField>
        <TextField
          id="integration-id"
          fullWidth
          margin="dense"
          label="ID"
          required
          value={form.id}
          disabled={readOnly || Boolean(saved)}
          onChange={event => change({ ...form, id: event.target.value }, 'id')}
          error={Boolean(errors.id)}
          helperText={
            errors.id ??
            'Lower-case letters, digits and dashes; templates (and the callback URL) name the app by it, so it never changes.'
          }
        />
        <TextField
          id="integration-title"
          fullWidth
          margin="dense"
          label="Title"
          value={form.title}
          disabled={readOnly}
          onChange={event =>
            change({ ...form, title: event.target.value }, 'title')
          }
          error={Boolean(errors.title)}
          helperText={errors.title}
        />
        {fieldsInMode(form).map(field => {
          const secret = isSecretField(form.provider, field.name);
          const kept = secret && secretSet(field.name);
          return (
            <TextField
              key={field.name}
              id={`integration-${field.name}`}
              select={Boolean(field.options)}
              fullWidth
              margin="dense"
              label={field.label}
              type={secret ? 'password' : 'text'}
              autoComplete={secret ? 'new-password' : 'off'}
              required={field.required && !kept}
              placeholder={field.placeholder}
              value={form.values[field.name] ?? ''}
              disabled={readOnly}
              onChange={event => setValue(field.name, event.target.value)}
              error={Boolean(errors[field.name])}
              helperText={
                errors[field.name] ??
                (kept ? 'Set — leave empty to keep it.' : field.help)
              }
            >
              {field.options?.map(option => (
                <MenuItem key={option.value} value={option.value}>
                  {option.label}
                </MenuItem>
              ))}
            </TextField>
          );
        })}
        {errors[''] && <Alert severity="error">{errors['']}</Alert>}
        <ErrorAlert error={saving.error} />
        <Box mt={2}>
          <TestConnectionButton key={version} test={testConnection} />
        </Box>
        <CallbackSetup
          descriptor={descriptor}
          connectionMode={form.connectionMode}
          callbackPath={saved?.callbackPath}
        />
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
            {saved ? 'Save' : 'Create'}
          </Button>
        )}
      </DialogActions>
    </TitledDialog>
  );
}
