import {
  instanceLinkField,
  type ProviderDescriptor,
} from './ProviderDescriptor';

export const dingtalk: ProviderDescriptor = {
  provider: 'dingtalk',
  label: 'DingTalk',
  formIdLabel: 'Form processCode',
  fields: [
    {
      name: 'appKey',
      label: 'AppKey (Client ID)',
      required: true,
      placeholder: 'ding…',
    },
    { name: 'appSecret', label: 'AppSecret (Client Secret)', required: true },
    {
      name: 'token',
      label: 'Callback token',
      required: true,
      modes: ['callback'],
      help: 'Events and callbacks → HTTP push; DingTalk signs each callback with it.',
    },
    {
      name: 'aesKey',
      label: 'aes_key',
      required: true,
      modes: ['callback'],
      help: 'The 43-character key generated beside the token; DingTalk encrypts each callback with it.',
    },
    {
      name: 'agentId',
      label: 'AgentId',
      help: 'Optional: sent with new approvals as the app they come from.',
    },
    {
      name: 'cardTemplateId',
      label: 'Card template ID',
      modes: ['stream'],
      help: 'Optional: the card template (built in DingTalk’s card designer, published) that group chat cards are made from; see the README for its variables.',
    },
    {
      name: 'initiator',
      label: 'Initiator',
      required: true,
      help: 'The user approvals are opened on behalf of: a DingTalk userId or a mobile number.',
    },
    {
      name: 'baseUrl',
      label: 'API base URL',
      help: 'Leave empty for api.dingtalk.com; set it for the local IM sandbox.',
      placeholder: 'https://api.dingtalk.com',
    },
    {
      name: 'legacyBaseUrl',
      label: 'Legacy API base URL',
      help: 'Leave empty for oapi.dingtalk.com (used to find users by mobile).',
      placeholder: 'https://oapi.dingtalk.com',
    },
    instanceLinkField(
      'The processInstanceId goes in it; DingTalk’s own instance page (the url of its approval events) needs your CorpId in it as well.',
    ),
  ],
  defaults: {},
  connectionModes: [
    {
      value: 'callback',
      label: 'HTTP push to the request URL',
      description:
        'DingTalk posts each event to the callback URL below; it must be reachable from the internet.',
    },
    {
      value: 'stream',
      label: 'Stream mode',
      description:
        'Backstage holds a connection to DingTalk and receives events over it; no public URL needed.',
    },
    {
      value: 'poll',
      label: 'Polling',
      description:
        'Backstage reads pending instances from the DingTalk API on a schedule.',
    },
  ],
  consoleSteps: [
    {
      step: (
        <>
          Create an app on the DingTalk open platform and copy its AppKey
          (Client ID) and AppSecret (Client Secret).
        </>
      ),
    },
    {
      step: (
        <>
          Permissions: <code>qyapi_base</code>, <code>Contact.User.Read</code>,{' '}
          <code>qyapi_get_member</code>, <code>qyapi_get_member_by_mobile</code>
          , <code>fieldMobile</code>, and for approvals{' '}
          <code>Workflow.Form.Read</code>, <code>Workflow.Form.Write</code>,{' '}
          <code>Workflow.Instance.Read</code>,{' '}
          <code>Workflow.Instance.Write</code>, and for group chat cards{' '}
          <code>Card.Instance.Write</code>. Without the contact ones approver
          details come back empty.
        </>
      ),
    },
    {
      step: (
        <>
          Create the approval form (Workbench → OA Approval), publish it and
          copy its form ID, the <b>processCode</b>. Field names sent must match
          the form’s labels exactly.
        </>
      ),
    },
    {
      modes: ['callback'],
      step: (
        <>
          Events and callbacks → <b>HTTP push</b>: generate the token and
          aes_key once (resetting them breaks the running integration), save
          them here, then paste the callback URL shown here and save; DingTalk
          checks it with <code>check_url</code>.
        </>
      ),
    },
    {
      modes: ['stream'],
      step: (
        <>
          Save the app here first, so Backstage holds the connection, then
          choose <b>Stream mode</b> under Events and callbacks.
        </>
      ),
    },
    {
      modes: ['callback', 'stream'],
      step: (
        <>
          Enable the approval events <code>bpms_task_change</code> and{' '}
          <code>bpms_instance_change</code>.
        </>
      ),
    },
    {
      modes: ['poll'],
      step: (
        <>
          No event subscription is needed: Backstage reads the pending instances
          from the DingTalk API.
        </>
      ),
    },
  ],
};
