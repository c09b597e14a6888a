import {
  instanceLinkField,
  type ProviderDescriptor,
} from './ProviderDescriptor';

export const wecom: ProviderDescriptor = {
  provider: 'wecom',
  label: 'WeCom',
  formIdLabel: 'Template ID',
  fields: [
    {
      name: 'corpId',
      label: 'Corp ID',
      required: true,
      help: 'My Enterprise → Enterprise information.',
      placeholder: 'ww…',
    },
    {
      name: 'agentId',
      label: 'AgentID',
      required: true,
      help: 'The self-built app’s AgentID.',
    },
    {
      name: 'secret',
      label: 'Secret',
      required: true,
      help: 'The self-built app’s Secret.',
    },
    {
      name: 'token',
      label: 'Token',
      required: true,
      modes: ['callback'],
      help: 'The app’s “receive messages” settings; WeCom signs each callback with it.',
    },
    {
      name: 'encodingAESKey',
      label: 'EncodingAESKey',
      required: true,
      modes: ['callback'],
      help: 'The 43-character key beside the Token; WeCom encrypts each callback with it.',
    },
    {
      name: 'initiator',
      label: 'Initiator',
      required: true,
      help: 'The user approvals are opened on behalf of: a WeCom userid, an email or a mobile.',
    },
    {
      name: 'baseUrl',
      label: 'API base URL',
      help: 'Leave empty for qyapi.weixin.qq.com; set it for a private deployment or the local IM sandbox.',
      placeholder: 'https://qyapi.weixin.qq.com',
    },
    instanceLinkField(
      'The sp_no goes in it; WeCom has no public web page per request, so point it at the page your people use (a portal, the approval app).',
    ),
  ],
  defaults: {},
  connectionModes: [
    {
      value: 'callback',
      label: 'Receive messages at the callback URL',
      description:
        'WeCom posts each approval change to the callback URL below; it must be reachable from the internet.',
    },
    {
      value: 'poll',
      label: 'Polling',
      description:
        'Backstage reads pending approvals from the WeCom API on a schedule, within its rate limit; WeCom has no long connection.',
    },
  ],
  consoleSteps: [
    {
      step: (
        <>
          Create a self-built app in the WeCom admin console; copy its AgentID
          and Secret, and the Corp ID (My Enterprise).
        </>
      ),
    },
    {
      step: (
        <>
          Configure the trusted domain and the enterprise trusted IPs: the
          address Backstage calls the API from.
        </>
      ),
    },
    {
      step: (
        <>
          In the Approval app, add the new app to the “apps that may call the
          API”.
        </>
      ),
    },
    {
      modes: ['callback'],
      step: (
        <>
          In the app’s <b>receive messages</b> settings, get the Token and
          EncodingAESKey, save them here first, then paste the callback URL
          shown here and save in WeCom — it checks the URL with a signed
          request.
        </>
      ),
    },
    {
      modes: ['callback'],
      step: (
        <>
          In the Approval app, enable the callback for the approval template
          used.
        </>
      ),
    },
    {
      modes: ['poll'],
      step: (
        <>
          No callback is needed: Backstage reads the pending approvals from the
          WeCom API.
        </>
      ),
    },
  ],
};
