import { integrationSchema } from './integrations';
import { updateIntegrationRequestSchema } from './integrationsApi';

const feishu = {
  id: 'feishu-main',
  provider: 'feishu',
  appId: 'cli_x',
  appSecret: 's',
  verificationToken: 'v',
  initiator: 'ou_bot',
};
const issues = (
  schema: {
    safeParse(value: unknown): {
      error?: { issues: Array<{ path: PropertyKey[]; message: string }> };
    };
  },
  value: object,
) =>
  schema
    .safeParse(value)
    .error?.issues.map(i => `${i.path.join('.')}: ${i.message}`);

describe('integrationSchema', () => {
  it('needs the Encrypt Key for Feishu callbacks, as the other IMs need their callback keys', () => {
    expect(issues(integrationSchema, feishu)).toEqual([
      expect.stringMatching(
        /^encryptKey: is required when connectionMode is callback: without it Feishu neither encrypts nor signs callbacks; set the Encrypt Key/,
      ),
    ]);
    expect(
      issues(integrationSchema, { ...feishu, encryptKey: 'k' }),
    ).toBeUndefined();
    expect(
      issues(integrationSchema, {
        ...feishu,
        connectionMode: 'long-connection',
      }),
    ).toBeUndefined();
    expect(
      issues(integrationSchema, { ...feishu, connectionMode: 'poll' }),
    ).toBeUndefined();
    expect(
      issues(integrationSchema, {
        id: 'wecom-main',
        provider: 'wecom',
        corpId: 'ww',
        agentId: 1,
        secret: 's',
        initiator: 'bot',
      }),
    ).toEqual([
      'token: is required when connectionMode is callback: it verifies the callbacks WeCom signs with it (not needed with poll)',
      'encodingAESKey: is required when connectionMode is callback: it decrypts the callbacks WeCom encrypts with it (not needed with poll)',
    ]);
  });

  it('bounds ids to their varchar(64) column and every text to a size, and refuses NUL', () => {
    expect(
      issues(integrationSchema, {
        ...feishu,
        connectionMode: 'poll',
        id: 'a'.repeat(64),
      }),
    ).toBeUndefined();
    expect(
      issues(integrationSchema, {
        ...feishu,
        connectionMode: 'poll',
        id: 'a'.repeat(65),
        title: 't\u0000',
        appSecret: 's'.repeat(1025),
        baseUrl: `https://example.com/${'x'.repeat(2048)}`,
      }),
    ).toEqual([
      'id: must be lower-case letters, digits and dashes (at most 64, starting with a letter or digit)',
      'title: must not contain the NUL character (U+0000)',
      'baseUrl: must be at most 2048 characters',
      'appSecret: must be at most 1024 characters',
    ]);
  });
  it('needs the Verification Token for Feishu callbacks only', () => {
    const { verificationToken: _token, ...withoutToken } = feishu;
    expect(
      issues(integrationSchema, { ...withoutToken, encryptKey: 'k' }),
    ).toEqual([
      expect.stringMatching(
        /^verificationToken: is required when connectionMode is callback: .*\(not needed with long-connection or poll\)$/,
      ),
    ]);
    // One answer names every problem: the callback secrets along with a missing field.
    const { appSecret: _secret, ...withoutSecret } = withoutToken;
    expect(issues(integrationSchema, withoutSecret)).toEqual([
      'appSecret: is required',
      expect.stringMatching(/^verificationToken: is required when/),
      expect.stringMatching(/^encryptKey: is required when/),
    ]);
    for (const connectionMode of ['long-connection', 'poll'])
      expect(
        issues(integrationSchema, { ...withoutToken, connectionMode }),
      ).toBeUndefined();
  });

  it('says in words what a field needs, as a sentence its name or label begins', () => {
    expect(
      issues(integrationSchema, {
        id: 'wecom-main',
        provider: 'wecom',
        agentId: 'abc',
        secret: 7,
        baseUrl: 'not a url',
        instanceUrl: 'https://portal.example/',
        connectionMode: 'stream',
      }),
    ).toEqual([
      'initiator: is required',
      'instanceUrl: must contain {instanceId} where the instance id goes',
      'baseUrl: must be a URL such as https://api.example.com',
      'corpId: is required',
      'agentId: must be a number',
      'secret: must be text',
      'connectionMode: must be one of callback, poll',
    ]);
    const wecom = {
      id: 'wecom-main',
      provider: 'wecom',
      corpId: 'ww',
      secret: 's',
      initiator: 'bot',
      connectionMode: 'poll',
    };
    expect(issues(integrationSchema, { ...wecom, agentId: '1.5' })).toEqual([
      'agentId: must be a whole number',
    ]);
    expect(issues(integrationSchema, { ...wecom, agentId: '0' })).toEqual([
      'agentId: must be greater than 0',
    ]);
    expect(issues(integrationSchema, wecom)).toEqual(['agentId: is required']);
    const { id: _id, ...unnamed } = wecom;
    expect(issues(integrationSchema, { ...unnamed, agentId: 1 })).toEqual([
      'id: is required',
    ]);
    // A form sends what was typed; the number it means is what is stored.
    expect(
      integrationSchema.parse({ ...wecom, agentId: ' 1000002 ' }),
    ).toMatchObject({ agentId: 1000002 });
    expect(issues(integrationSchema, { ...feishu, provider: 'slack' })).toEqual(
      ['provider: must be one of feishu, dingtalk, wecom'],
    );
  });
});

describe('updateIntegrationRequestSchema', () => {
  it('takes a secret as create does, null to remove it, or nothing to keep it', () => {
    const { appSecret: _secret, ...withoutSecret } = feishu;
    expect(
      issues(updateIntegrationRequestSchema, {
        ...withoutSecret,
        connectionMode: 'poll',
        encryptKey: null,
      }),
    ).toBeUndefined();
    expect(
      issues(updateIntegrationRequestSchema, {
        ...feishu,
        appSecret: 'x'.repeat(1025),
        verificationToken: 'v\u0000',
      }),
    ).toEqual([
      'appSecret: must be at most 1024 characters',
      'verificationToken: must not contain the NUL character (U+0000)',
    ]);
    expect(
      issues(updateIntegrationRequestSchema, {
        id: 'd',
        provider: 'dingtalk',
        appKey: 'k',
        initiator: 'bot',
        aesKey: 'short',
      }),
    ).toEqual([
      'aesKey: must be the 43-character key from the IM console (letters, digits, + and /)',
    ]);
  });
});
