import { useApi } from '@backstage/core-plugin-api';
import type {
  IntegrationView,
  ProviderId,
} from '@im-approval/plugin-im-approval-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import Alert from '@material-ui/lab/Alert';
import { useState } from 'react';
import useAsyncFn from 'react-use/esm/useAsyncFn';
import { imApprovalApiRef } from '../../api/ImApprovalApi';
import { PROVIDERS, providerDescriptor } from '../../providers';
import { ErrorAlert } from '../shared/ErrorAlert';
import { CallbackSetup } from './CallbackSetup';
import {
  integrationFormFrom,
  isSecretField,
  newIntegrationForm,
  prepareSave,
  type IntegrationFormState,
} from './integrationForm';
import { TestConnection } from './TestConnection';

/**
 * Creates, edits or (for apps from app-config, which change only there) shows one IM app.
 * After creating, the dialog stays open on the saved app so its callback URL can be copied and tested.
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
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saving, runSave] = useAsyncFn(
    async (save: () => Promise<IntegrationView>) => {
      const view = await save();
      setSaved(view);
      setForm(integrationFormFrom(view));
      props.onSaved(view);
    },
  );
  const descriptor = providerDescriptor(form.provider);
  const readOnly = props.readOnly;

  const save = async () => {
    const prepared = prepareSave(api, form, saved?.id);
    if (!prepared.ok) {
      setErrors(prepared.errors);
      return;
    }
    setErrors({});
    await runSave(prepared.save);
  };

  const setValue = (name: string, value: string) =>
    setForm(current => ({
      ...current,
      values: { ...current.values, [name]: value },
    }));
  const secretSet = (name: string) =>
    Boolean(saved && (saved.secrets as Record<string, boolean>)[name]);

  return (
    <Dialog open onClose={props.onClose} fullWidth maxWidth="md">
      <DialogTitle>
        {saved ? `IM app ${saved.title ?? saved.id}` : 'New IM app'}
      </DialogTitle>
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
            setForm(newIntegrationForm(event.target.value as ProviderId))
          }
        >
          {Object.values(PROVIDERS).map(provider => (
            <MenuItem key={provider.provider} value={provider.provider}>
              {provider.label}
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
          onChange={event => setForm({ ...form, id: event.target.value })}
          error={Boolean(errors.id)}
          helperText={
            errors.id ??
            'Lower-case letters, digits and dashes; part of the callback URL, never changes.'
          }
        />
        <TextField
          id="integration-title"
          fullWidth
          margin="dense"
          label="Title"
          value={form.title}
          disabled={readOnly}
          onChange={event => setForm({ ...form, title: event.target.value })}
          error={Boolean(errors.title)}
          helperText={errors.title}
        />
        {descriptor.fields.map(field => {
          const secret = isSecretField(form.provider, field.name);
          const help =
            secret && secretSet(field.name)
              ? 'Set — leave empty to keep it.'
              : field.help;
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
              required={field.required && !(secret && secretSet(field.name))}
              placeholder={field.placeholder}
              value={form.values[field.name] ?? ''}
              disabled={readOnly}
              onChange={event => setValue(field.name, event.target.value)}
              error={Boolean(errors[field.name])}
              helperText={errors[field.name] ?? help}
            >
              {field.options?.map(option => (
                <MenuItem key={option.value} value={option.value}>
                  {option.label}
                </MenuItem>
              ))}
            </TextField>
          );
        })}
        <TextField
          id="integration-connection-mode"
          select
          fullWidth
          margin="dense"
          label="Connection mode"
          value={form.connectionMode}
          disabled={readOnly}
          onChange={event =>
            setForm({
              ...form,
              connectionMode: event.target
                .value as IntegrationFormState['connectionMode'],
            })
          }
          error={Boolean(errors.connectionMode)}
          helperText={
            errors.connectionMode ??
            descriptor.connectionModes.find(
              m => m.value === form.connectionMode,
            )?.description
          }
        >
          {descriptor.connectionModes.map(mode => (
            <MenuItem key={mode.value} value={mode.value}>
              {mode.label}
            </MenuItem>
          ))}
        </TextField>
        {errors[''] && <Alert severity="error">{errors['']}</Alert>}
        <ErrorAlert error={saving.error} />
        {saved && (
          <Box mt={2}>
            <TestConnection integrationId={saved.id} />
          </Box>
        )}
        <CallbackSetup
          descriptor={descriptor}
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
    </Dialog>
  );
}
