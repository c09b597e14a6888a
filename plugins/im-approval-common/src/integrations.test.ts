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
        /^encryptKey: required when connectionMode is callback: without it Feishu neither encrypts nor signs callbacks; set the Encrypt Key/,
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
      'token: required when connectionMode is callback (it verifies and decrypts callbacks)',
      'encodingAESKey: required when connectionMode is callback (it verifies and decrypts callbacks)',
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
      'id: expected lower-case letters, digits and dashes (at most 64, starting with a letter or digit)',
      'title: must not contain the NUL character (U+0000)',
      'baseUrl: expected at most 2048 characters',
      'appSecret: expected at most 1024 characters',
    ]);
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
      'appSecret: expected at most 1024 characters',
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
    ).toEqual(['aesKey: expected the 43-character key from the IM console']);
  });
});
