import {
  instanceLinkField,
  type ProviderDescriptor,
} from './ProviderDescriptor';

export const feishu: ProviderDescriptor = {
  provider: 'feishu',
  label: 'Feishu / Lark',
  formIdLabel: 'Approval code',
  fields: [
    {
      name: 'domain',
      label: 'Platform',
      options: [
        { value: 'feishu', label: 'Feishu (open.feishu.cn)' },
        { value: 'lark', label: 'Lark (open.larksuite.com)' },
      ],
    },
    {
      name: 'baseUrl',
      label: 'API base URL',
      help: 'Leave empty for the platform above; set it for a private deployment or the local IM sandbox.',
      placeholder: 'https://open.feishu.cn',
    },
    { name: 'appId', label: 'App ID', required: true, placeholder: 'cli_…' },
    { name: 'appSecret', label: 'App Secret', required: true },
    {
      name: 'verificationToken',
      label: 'Verification Token',
      required: true,
      modes: ['callback'],
      help: 'Events and callbacks → Encryption strategy; Feishu sends it in every callback.',
    },
    {
      name: 'encryptKey',
      label: 'Encrypt Key',
      required: true,
      modes: ['callback'],
      help: 'Events and callbacks → Encryption strategy; Feishu then encrypts and signs each callback.',
    },
    {
      name: 'initiator',
      label: 'Initiator',
      required: true,
      help: 'The user approvals are opened on behalf of: an open_id, an email or a mobile inside the app’s contact scope.',
    },
    instanceLinkField('The instance code goes in it.'),
  ],
  defaults: { domain: 'feishu' },
  connectionModes: [
    {
      value: 'callback',
      label: 'Event request URL',
      description:
        'Feishu posts each decision to the callback URL below; it must be reachable from the internet.',
    },
    {
      value: 'long-connection',
      label: 'Long connection',
      description:
        'Backstage holds Feishu’s long connection and receives events over it; no public URL needed (self-built apps).',
    },
    {
      value: 'poll',
      label: 'Polling',
      description:
        'Backstage reads pending instances from the Feishu API on a schedule; for a Backstage the internet cannot reach.',
    },
  ],
  consoleSteps: [
    {
      step: (
        <>
          Create an <b>enterprise self-built app</b> on the Feishu / Lark open
          platform.
        </>
      ),
    },
    {
      step: (
        <>
          Data permission: set the contact (address book) scope — every approver
          must be inside it.
        </>
      ),
    },
    {
      step: (
        <>
          API permissions: <code>approval:approval</code>,{' '}
          <code>approval:approval.list:readonly</code>,{' '}
          <code>approval:approval:readonly</code>,{' '}
          <code>contact:user.id:readonly</code>,{' '}
          <code>contact:contact.base:readonly</code>,{' '}
          <code>contact:user.employee_id:readonly</code>,{' '}
          <code>contact:user.base:readonly</code>,{' '}
          <code>contact:department.base:readonly</code>,{' '}
          <code>contact:group:readonly</code>.
        </>
      ),
    },
    {
      step: (
        <>
          Create a version and publish it (an administrator may have to approve
          the release).
        </>
      ),
    },
    {
      step: (
        <>
          Copy the App ID and App Secret (Credentials &amp; basic info) into
          this form.
        </>
      ),
    },
    {
      modes: ['callback'],
      step: (
        <>
          Under Events and callbacks → Encryption strategy, copy the Encrypt Key
          and Verification Token into this form and save the app here.
        </>
      ),
    },
    {
      modes: ['callback'],
      step: (
        <>
          Event subscription: choose <b>send events to the request URL</b> and
          paste the callback URL shown here (Feishu checks it on save).
        </>
      ),
    },
    {
      modes: ['long-connection'],
      step: (
        <>
          Save the app here first, then under Event subscription choose{' '}
          <b>receive events through a persistent connection</b>: Feishu accepts
          it only while Backstage holds the connection.
        </>
      ),
    },
    {
      modes: ['callback', 'long-connection'],
      step: (
        <>
          Add the event <b>approval task status change</b> (
          <code>approval_task</code>), then publish a new version again — event
          changes take effect only after a release.
        </>
      ),
    },
    {
      modes: ['poll'],
      step: (
        <>
          No event subscription is needed: Backstage reads the pending instances
          from the Feishu API.
        </>
      ),
    },
  ],
};
