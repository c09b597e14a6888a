import { useApi } from '@backstage/core-plugin-api';
import {
  githubAppRequestSchema,
  type GithubAppView,
} from '@im-approval/plugin-im-approval-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import TextField from '@material-ui/core/TextField';
import { useState } from 'react';
import useAsyncFn from 'react-use/esm/useAsyncFn';
import { imApprovalApiRef } from '../../api/ImApprovalApi';
import { ConfirmDelete } from '../shared/ConfirmDelete';
import { ErrorAlert } from '../shared/ErrorAlert';
import { fieldErrors } from '../shared/fieldErrors';

/** The GitHub App saved in Backstage: its id and API, and its key and secret (write-only). */
export function GithubAppForm(props: {
  app: GithubAppView | null;
  onSaved: () => void;
}) {
  const api = useApi(imApprovalApiRef);
  const [form, setForm] = useState({
    appId: props.app?.appId ?? '',
    apiBaseUrl: props.app?.apiBaseUrl ?? 'https://api.github.com',
    privateKey: '',
    webhookSecret: '',
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [deleting, setDeleting] = useState(false);
  const [saving, save] = useAsyncFn(async () => {
    const request = {
      appId: form.appId.trim(),
      apiBaseUrl: form.apiBaseUrl.trim(),
      // Empty keeps what is stored; the backend says when there is nothing yet.
      ...(form.privateKey.trim() ? { privateKey: form.privateKey } : {}),
      ...(form.webhookSecret ? { webhookSecret: form.webhookSecret } : {}),
    };
    const checked = githubAppRequestSchema.safeParse(request);
    if (!checked.success) {
      setErrors(fieldErrors(checked.error));
      return;
    }
    setErrors({});
    await api.saveGithubApp(request);
    setForm({ ...form, privateKey: '', webhookSecret: '' });
    props.onSaved();
  }, [form]);

  const kept = props.app ? 'Stored; leave empty to keep it' : undefined;
  const input = (
    key: keyof typeof form,
    label: string,
    help: string,
    extra: object = {},
  ) => (
    <TextField
      id={`github-app-${key}`}
      fullWidth
      margin="dense"
      label={label}
      value={form[key]}
      error={Boolean(errors[key])}
      helperText={errors[key] ?? help}
      onChange={event => setForm({ ...form, [key]: event.target.value })}
      {...extra}
    />
  );

  return (
    <Box mt={2}>
      {input('appId', 'App ID', 'From the App’s settings page')}
      {input(
        'apiBaseUrl',
        'GitHub API',
        'https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server',
      )}
      {input(
        'privateKey',
        'Private key',
        kept ?? 'The .pem file’s text (Generate a private key)',
        {
          multiline: true,
          minRows: 2,
          placeholder: '-----BEGIN RSA PRIVATE KEY-----',
        },
      )}
      {input(
        'webhookSecret',
        'Webhook secret',
        kept ?? 'The secret set in the App’s webhook settings',
        { type: 'password' },
      )}
      <ErrorAlert error={saving.error} />
      <Box mt={1} display="flex" style={{ gap: 8 }}>
        <Button
          color="primary"
          variant="contained"
          disabled={saving.loading}
          onClick={() => save()}
        >
          Save GitHub App
        </Button>
        {props.app && (
          <Button onClick={() => setDeleting(true)}>Forget the App</Button>
        )}
      </Box>
      {deleting && (
        <ConfirmDelete
          what="the GitHub App"
          consequence="GitHub's webhooks are refused and held jobs wait until an App is saved again."
          onDelete={() => api.deleteGithubApp()}
          onDone={() => {
            setDeleting(false);
            props.onSaved();
          }}
          onClose={() => setDeleting(false)}
        />
      )}
    </Box>
  );
}
