import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import {
  gateSchema,
  githubAppRequestSchema,
} from '@im-approval/plugin-im-approval-common';
import type { Knex } from 'knex';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { DatabaseGithubSettingsStore } from '../database/DatabaseGithubSettingsStore';
import { migratedClient } from '../database/migratedClient';
import { GithubSettings } from './GithubSettings';
import { SecretBox } from './SecretBox';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['POSTGRES_15', 'SQLITE_3'] });
const key1 = { id: 'k1', key: randomBytes(32) };
const key2 = { id: 'k2', key: randomBytes(32) };
const PEM = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs1', format: 'pem' })
  .toString();
const gate = (name: string, environments = ['production']) =>
  gateSchema.parse({ name, environments, template: 'deploy' });
const appRequest = (body: object) => githubAppRequestSchema.parse(body);

describe.each(databases.eachSupportedId())(
  'the GitHub App and gates in the database on %p',
  databaseId => {
    let knex: Knex;
    let store: DatabaseGithubSettingsStore;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      await migratedClient({ getClient: async () => knex });
      store = new DatabaseGithubSettingsStore(knex);
    });

    beforeEach(async () => {
      await knex('im_approval_gates').delete();
      await knex('im_approval_github_app').delete();
    });

    const settings = (
      options: Partial<ConstructorParameters<typeof GithubSettings>[0]> = {},
    ) =>
      new GithubSettings({
        configGates: [],
        store,
        box: new SecretBox([key1]),
        templateExists: async name => name === 'deploy',
        ...options,
      });

    it('stores the private key and webhook secret encrypted, keeps them when left out, and never returns them', async () => {
      const github = settings();
      expect(await github.appView()).toBeNull();
      await expect(
        github.saveApp(
          appRequest({ appId: 7, webhookSecret: 's' }),
          'user:default/ada',
        ),
      ).rejects.toThrow(/body\.privateKey: required the first time/);

      const view = await github.saveApp(
        appRequest({
          appId: 7,
          privateKey: PEM,
          webhookSecret: 'first-secret',
        }),
        'user:default/ada',
      );
      expect(view).toEqual({
        source: 'database',
        editable: true,
        appId: '7',
        apiBaseUrl: 'https://api.github.com',
      });
      const row = await knex('im_approval_github_app').first();
      expect(JSON.stringify(row)).not.toContain('first-secret');
      expect(JSON.stringify(row)).not.toContain('PRIVATE KEY');

      await github.saveApp(
        appRequest({ appId: 8, apiBaseUrl: 'https://ghe.example/api/v3/' }),
        'user:default/ada',
      );
      expect(await github.app()).toEqual({
        appId: '8',
        apiBaseUrl: 'https://ghe.example/api/v3',
        privateKey: PEM,
        webhookSecret: 'first-secret',
      });
      // Another replica (another instance) sees it too, and gets a client for it.
      expect(await settings().client()).toBeDefined();
      await github.deleteApp();
      expect(await github.app()).toBeUndefined();
      await expect(github.deleteApp()).rejects.toThrow(
        /No GitHub App is saved/,
      );
    });

    it('leaves an App from app-config alone: it wins, and saving or deleting is a conflict', async () => {
      const configApp = {
        appId: '1',
        apiBaseUrl: 'https://api.github.com',
        privateKey: PEM,
        webhookSecret: 'config-secret',
      };
      const github = settings({ configApp });
      expect(github.appEditable).toBe(false);
      expect(await github.appView()).toMatchObject({
        source: 'config',
        editable: false,
      });
      await expect(
        github.saveApp(
          appRequest({ appId: 2, privateKey: PEM, webhookSecret: 'x' }),
          'a',
        ),
      ).rejects.toThrow(/comes from app-config/);
      await expect(github.deleteApp()).rejects.toThrow(/comes from app-config/);
      expect((await github.app())?.webhookSecret).toBe('config-secret');
    });

    it('needs a secrets key to save an App', async () => {
      const github = settings({ box: undefined });
      expect(github.appEditable).toBe(false);
      await expect(
        github.saveApp(
          appRequest({ appId: 2, privateKey: PEM, webhookSecret: 'x' }),
          'a',
        ),
      ).rejects.toThrow(/imApproval\.secretsKey/);
    });

    it('re-encrypts the stored secrets with the current key at start, and refuses to start without any key', async () => {
      await settings().saveApp(
        appRequest({ appId: 7, privateKey: PEM, webhookSecret: 'rotate-me' }),
        'a',
      );
      const rotated = settings({ box: new SecretBox([key2, key1]) });
      await rotated.open(mockServices.logger.mock());
      const row = await knex('im_approval_github_app').first();
      expect(JSON.parse(row.private_key).keyId).toBe('k2');
      expect(JSON.parse(row.webhook_secret).keyId).toBe('k2');
      expect(
        (await settings({ box: new SecretBox([key2]) }).app())?.webhookSecret,
      ).toBe('rotate-me');
      await expect(
        settings({ box: undefined }).open(mockServices.logger.mock()),
      ).rejects.toThrow(
        /holds the GitHub App saved in Backstage, but imApproval\.secretsKey is not configured/,
      );
    });

    it("matches app-config's gates first, then the stored ones by name; config ones are read-only", async () => {
      const github = settings({
        configGates: [gate('from-config', ['prod-*'])],
      });
      await github.createGate(gate('b-gate', ['staging']), 'a');
      await github.createGate(gate('a-gate', ['qa']), 'a');
      expect((await github.gates()).map(g => g.name)).toEqual([
        'from-config',
        'a-gate',
        'b-gate',
      ]);
      expect(
        (await github.gateViews()).map(g => [g.name, g.source, g.editable]),
      ).toEqual([
        ['from-config', 'config', false],
        ['a-gate', 'database', true],
        ['b-gate', 'database', true],
      ]);
      await expect(github.createGate(gate('from-config'), 'a')).rejects.toThrow(
        /taken by a gate from app-config/,
      );
      await expect(github.createGate(gate('a-gate'), 'a')).rejects.toThrow(
        /is taken/,
      );
      await expect(
        github.updateGate('from-config', gate('from-config'), 'a'),
      ).rejects.toThrow(/read-only/);
      await expect(
        github.updateGate('a-gate', gate('other'), 'a'),
      ).rejects.toThrow(/body\.name: must be "a-gate"/);
      await expect(
        github.createGate(
          gateSchema.parse({
            name: 'x',
            environments: ['e'],
            template: 'nope',
          }),
          'a',
        ),
      ).rejects.toThrow(/body\.template: there is no template named "nope"/);
      await github.updateGate('a-gate', gate('a-gate', ['uat']), 'a');
      expect(
        (await github.gates()).find(g => g.name === 'a-gate')?.environments,
      ).toEqual(['uat']);
      await github.deleteGate('a-gate');
      await expect(github.deleteGate('a-gate')).rejects.toThrow(
        /There is no gate "a-gate"/,
      );
    });
  },
);
