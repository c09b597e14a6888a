import { ConfigReader } from '@backstage/config';
import { readImApprovalConfig } from './readImApprovalConfig';

const wecom = {
  id: 'wecom-main',
  provider: 'wecom',
  corpId: 'wwcorp',
  agentId: 1000002,
  secret: 's',
  initiator: 'bot',
  connectionMode: 'poll',
};
const dingtalk = {
  id: 'dingtalk-main',
  provider: 'dingtalk',
  appKey: 'dingkey',
  appSecret: 's',
  initiator: 'bot',
  connectionMode: 'stream',
};
const feishu = {
  id: 'feishu-main',
  provider: 'feishu',
  appId: 'cli_x',
  appSecret: 's',
  verificationToken: 'v',
  initiator: 'ou_bot',
};

function read(integrations: object[], reconciler?: object) {
  return readImApprovalConfig(
    new ConfigReader({
      imApproval: { integrations, ...(reconciler ? { reconciler } : {}) },
    }),
  );
}

describe('readImApprovalConfig', () => {
  it('reads each provider with its own fields, defaults and base URLs', () => {
    const { integrations } = read([wecom, dingtalk]);
    expect(integrations).toEqual([
      expect.objectContaining({
        provider: 'wecom',
        baseUrl: 'https://qyapi.weixin.qq.com',
        connectionMode: 'poll',
      }),
      expect.objectContaining({
        provider: 'dingtalk',
        baseUrl: 'https://api.dingtalk.com',
        legacyBaseUrl: 'https://oapi.dingtalk.com',
        connectionMode: 'stream',
      }),
    ]);
  });

  it.each([
    [
      { ...wecom, connectionMode: 'long-connection' },
      /integrations\[0\] \("wecom-main"\)\.connectionMode: must be one of callback, poll$/,
    ],
    [
      { ...dingtalk, connectionMode: 'long-connection' },
      /"dingtalk-main"\)\.connectionMode: must be one of callback, stream, poll$/,
    ],
    [
      { ...wecom, connectionMode: 'callback' },
      /"wecom-main"\)\.token: is required when connectionMode is callback.*"wecom-main"\)\.encodingAESKey: is required/,
    ],
    [
      { ...dingtalk, connectionMode: 'callback', token: 't', aesKey: 'short' },
      /"dingtalk-main"\)\.aesKey: must be the 43-character key/,
    ],
    [
      { ...dingtalk, provider: 'slack' },
      /integrations\[0\] \("dingtalk-main"\)\.provider: must be one of feishu, dingtalk, wecom$/,
    ],
    // Callback mode is the default; without an Encrypt Key Feishu's callbacks would be plain and unsigned.
    [
      feishu,
      /integrations\[0\] \("feishu-main"\)\.encryptKey: is required when connectionMode is callback: without it Feishu neither encrypts nor signs callbacks/,
    ],
    [
      { ...feishu, connectionMode: 'callback', encryptKey: '' },
      /"feishu-main"\)\.encryptKey: /,
    ],
    [
      { ...feishu, encryptKey: 'k', appId: 'x'.repeat(256) },
      /"feishu-main"\)\.appId: must be at most 255 characters/,
    ],
    [
      { ...feishu, encryptKey: 'k', initiator: 'ou_\u0000bot' },
      /"feishu-main"\)\.initiator: must not contain the NUL character/,
    ],
  ])(
    'refuses %j at start-up, naming the integration',
    (integration, message) => {
      expect(() => read([integration])).toThrow(message);
    },
  );

  it('reads a Feishu integration over callbacks with its Encrypt Key, or without one over the long connection or polling', () => {
    const { integrations } = read([
      { ...feishu, encryptKey: 'k' },
      { ...feishu, id: 'feishu-lc', connectionMode: 'long-connection' },
      { ...feishu, id: 'feishu-poll', connectionMode: 'poll' },
    ]);
    expect(integrations.map(i => [i.id, i.connectionMode])).toEqual([
      ['feishu-main', 'callback'],
      ['feishu-lc', 'long-connection'],
      ['feishu-poll', 'poll'],
    ]);
  });

  it('refuses a template whose form is not an IM form id, naming it', () => {
    const templates = [
      {
        name: 'deploy',
        integration: 'wecom-main',
        form: '../x',
        approvers: ['bob'],
      },
    ];
    expect(() =>
      readImApprovalConfig(
        new ConfigReader({ imApproval: { integrations: [wecom], templates } }),
      ),
    ).toThrow(/imApproval\.templates\[0\]\.form: expected the IM form's id/);
  });

  it("derives the reconciler's interval from its frequency", () => {
    expect(read([]).reconcilerIntervalSeconds).toBe(30);
    expect(
      read([], { frequency: { minutes: 2 } }).reconcilerIntervalSeconds,
    ).toBe(120);
    expect(
      read([], { frequency: { cron: '*/5 * * * *' } })
        .reconcilerIntervalSeconds,
    ).toBe(60);
  });
});

const readSection = (imApproval: object) =>
  readImApprovalConfig(new ConfigReader({ imApproval }));

describe('imApproval.imRateLimits', () => {
  it("keeps to the IMs' documented limits unless told off, and names the key when it is neither", () => {
    expect(readSection({}).keepToImRateLimits).toBe(true);
    expect(readSection({ imRateLimits: 'documented' }).keepToImRateLimits).toBe(
      true,
    );
    expect(readSection({ imRateLimits: 'off' }).keepToImRateLimits).toBe(false);
    expect(() => readSection({ imRateLimits: 'none' })).toThrow(
      /imApproval\.imRateLimits/,
    );
  });
});

describe('imApproval.longPolls.heartbeat', () => {
  it('beats every 30 s unless told otherwise, and names the key when it is no duration above zero', () => {
    expect(readSection({}).longPollHeartbeatMs).toBe(30_000);
    expect(
      readSection({ longPolls: { heartbeat: { seconds: 15 } } })
        .longPollHeartbeatMs,
    ).toBe(15_000);
    expect(
      readSection({ longPolls: { heartbeat: '20s' } }).longPollHeartbeatMs,
    ).toBe(20_000);
    expect(() =>
      readSection({ longPolls: { heartbeat: { seconds: 0 } } }),
    ).toThrow(/imApproval\.longPolls\.heartbeat/);
    expect(() => readSection({ longPolls: { heartbeat: 'often' } })).toThrow(
      /longPolls\.heartbeat/,
    );
  });
});

describe('imApproval secrets keys', () => {
  const base64Key = Buffer.alloc(32, 1).toString('base64');
  const hexKey = Buffer.alloc(32, 2).toString('hex');

  it('reads one key as base64 or hex, under the id "default"', () => {
    expect(readSection({ secretsKey: base64Key }).secretsKeys).toEqual([
      { id: 'default', key: Buffer.alloc(32, 1) },
    ]);
    expect(readSection({ secretsKey: hexKey }).secretsKeys).toEqual([
      { id: 'default', key: Buffer.alloc(32, 2) },
    ]);
    expect(readSection({}).secretsKeys).toEqual([]);
  });

  it('reads a list for rotation, the first being current', () => {
    const keys = readSection({
      secretsKeys: [
        { id: 'new', key: hexKey },
        { id: 'old', key: base64Key },
      ],
    }).secretsKeys;
    expect(keys.map(k => k.id)).toEqual(['new', 'old']);
  });

  it.each([
    [
      { secretsKey: 'too-short' },
      'imApproval.secretsKey: expected 32 random bytes as base64',
    ],
    [
      { secretsKey: base64Key, secretsKeys: [{ id: 'a', key: base64Key }] },
      'set imApproval.secretsKey or imApproval.secretsKeys, not both',
    ],
    [
      {
        secretsKeys: [
          { id: 'a', key: base64Key },
          { id: 'a', key: hexKey },
        ],
      },
      'imApproval.secretsKeys: key ids must be unique',
    ],
    [
      { secretsKeys: [{ id: 'a b', key: base64Key }] },
      'imApproval.secretsKeys.0.id: expected letters, digits',
    ],
  ])('refuses %j with a message naming the key', (config, message) => {
    expect(() => readSection(config)).toThrow(message);
  });
});

describe('imApproval.github.app and imApproval.gates', () => {
  const app = {
    appId: 424242,
    privateKey:
      '-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n',
    webhookSecret: 'secret',
  };
  const gate = {
    name: 'production',
    environments: ['production'],
    template: 'deploy',
  };
  const readWith = (imApproval: object) =>
    readImApprovalConfig(
      new ConfigReader({
        imApproval,
        app: { baseUrl: 'http://backstage.example' },
      }),
    );

  it('reads the App with GitHub.com as its default API, and the gates in order', () => {
    const config = readWith({
      github: { app },
      gates: [
        gate,
        {
          ...gate,
          name: 'staging',
          environments: ['staging-*'],
          timeout: '2h',
        },
      ],
    });
    expect(config.githubApp).toEqual({
      ...app,
      appId: '424242',
      apiBaseUrl: 'https://api.github.com',
    });
    expect(config.gates.map(g => [g.name, g.timeout])).toEqual([
      ['production', undefined],
      ['staging', 7200],
    ]);
    expect(config.appBaseUrl).toBe('http://backstage.example');
    expect(
      readWith({
        github: { app: { ...app, apiBaseUrl: 'https://ghe.example/api/v3/' } },
      }).githubApp?.apiBaseUrl,
    ).toBe('https://ghe.example/api/v3');
  });

  it('names the key that is wrong', () => {
    expect(() =>
      readWith({ github: { app: { ...app, privateKey: 'hunter2' } } }),
    ).toThrow(
      /imApproval\.github\.app\.privateKey: expected the App’s private key/,
    );
    expect(() =>
      readWith({ github: { app: { ...app, webhookSecret: '' } } }),
    ).toThrow(/imApproval\.github\.app\.webhookSecret/);
    expect(() =>
      readWith({ github: { app }, gates: [{ ...gate, environments: [] }] }),
    ).toThrow(
      /imApproval\.gates\[0\]\.environments: list at least one pattern/,
    );
    expect(() => readWith({ github: { app }, gates: [gate, gate] })).toThrow(
      /gate name "production" is used twice/,
    );
  });
});
