import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import {
  feishuIntegrationSchema,
  templateSchema,
  type FeishuIntegration,
  type Integration,
} from '@im-approval/plugin-im-approval-common';
import type { ImProvider } from '@im-approval/plugin-im-approval-node';
import type { Knex } from 'knex';
import { randomBytes } from 'node:crypto';
import { feishuProvider } from '../providers/feishu';
import { ImClients } from '../service/ImClients';
import { migratedClient } from '../database/migratedClient';
import { openSettings } from './openSettings';
import { DatabaseManagedFormStore } from '../database/DatabaseManagedFormStore';
import { DatabaseSettingsStore } from '../database/DatabaseSettingsStore';
import { SecretBox } from './SecretBox';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['POSTGRES_15', 'SQLITE_3'] });
const logger = mockServices.logger.mock();
const clients = new ImClients(
  new Map([['feishu', feishuProvider as ImProvider]]),
  { logger, callbackMaxAgeSeconds: 300, keepToRateLimits: true },
);
const key1 = { id: 'k1', key: randomBytes(32) };
const key2 = { id: 'k2', key: randomBytes(32) };

const app = (id: string): FeishuIntegration =>
  feishuIntegrationSchema.parse({
    id,
    provider: 'feishu',
    baseUrl: 'http://127.0.0.1:9',
    appId: 'cli_x',
    appSecret: `secret-of-${id}`,
    verificationToken: 'token',
    connectionMode: 'poll',
    initiator: 'ou_bot',
  });
const template = (name: string, integration: string) =>
  templateSchema.parse({
    name,
    integration,
    form: 'CODE',
    approvers: ['ou_alice'],
  });

describe.each(databases.eachSupportedId())(
  'integrations and templates in the database on %p',
  databaseId => {
    let knex: Knex;
    let store: DatabaseSettingsStore;
    const settings = (
      box: SecretBox | undefined,
      config: {
        integrations: Integration[];
        templates: ReturnType<typeof template>[];
      } = { integrations: [], templates: [] },
    ) =>
      openSettings({
        config,
        store,
        forms: new DatabaseManagedFormStore(knex),
        box,
        clients,
        logger,
      });

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      await migratedClient({ getClient: async () => knex });
      store = new DatabaseSettingsStore(knex);
    });

    beforeEach(async () => {
      await knex('im_approval_templates').delete();
      await knex('im_approval_integration_secrets').delete();
      await knex('im_approval_integrations').delete();
    });

    it('stores secrets encrypted with a key id beside each, and reads the integration back whole', async () => {
      const managed = await settings(new SecretBox([key1]));
      await managed.integrations.create(app('db-app'), 'user:default/ann');

      const rows = await knex('im_approval_integration_secrets')
        .where({ integration_id: 'db-app' })
        .orderBy('field');
      expect(rows.map(r => [r.field, r.key_id])).toEqual([
        ['appSecret', 'k1'],
        ['verificationToken', 'k1'],
      ]);
      const stored =
        JSON.stringify(await knex('im_approval_integrations').select()) +
        JSON.stringify(rows);
      expect(stored).not.toContain('secret-of-db-app');
      expect(await managed.integrations.get('db-app')).toEqual(app('db-app'));
      expect((await knex('im_approval_integrations').first()).created_by).toBe(
        'user:default/ann',
      );
    });

    it('refuses to start without a key while encrypted secrets exist, and names a missing old key', async () => {
      await (
        await settings(new SecretBox([key1]))
      ).integrations.create(app('db-app'), 'user:default/ann');
      await expect(settings(undefined)).rejects.toThrow(
        'The database holds 2 encrypted secret(s) of integrations managed in Backstage, but imApproval.secretsKey is not configured',
      );
      await expect(settings(new SecretBox([key2]))).rejects.toThrow(
        'encrypted with key(s) "k1", which imApproval.secretsKeys does not list',
      );
    });

    it('starts without a key when the database holds no secrets, and then refuses writes', async () => {
      const managed = await settings(undefined);
      expect(managed.integrations.writable).toBe(false);
      await expect(
        managed.integrations.create(app('db-app'), 'user:default/ann'),
      ).rejects.toThrow('need a key to encrypt their secrets');
    });

    it('re-encrypts secrets under an older key with the current one at start-up', async () => {
      await (
        await settings(new SecretBox([key1]))
      ).integrations.create(app('db-app'), 'user:default/ann');
      const rotated = await settings(new SecretBox([key2, key1]));
      expect((await store.listSecrets()).map(s => s.keyId)).toEqual([
        'k2',
        'k2',
      ]);
      expect(await rotated.integrations.get('db-app')).toEqual(app('db-app'));
      // Once rotated, the old key is no longer needed.
      expect(
        await (
          await settings(new SecretBox([key2]))
        ).integrations.get('db-app'),
      ).toEqual(app('db-app'));
    });

    it('detects a tampered secret when reading the integration', async () => {
      const managed = await settings(new SecretBox([key1]));
      await managed.integrations.create(app('db-app'), 'user:default/ann');
      const row = await knex('im_approval_integration_secrets')
        .where({ integration_id: 'db-app', field: 'appSecret' })
        .first();
      const flipped = Buffer.from(row.ciphertext, 'base64');
      flipped[0] ^= 1;
      await knex('im_approval_integration_secrets')
        .where({ integration_id: 'db-app', field: 'appSecret' })
        .update({ ciphertext: flipped.toString('base64') });
      // A conflict with what is stored (409), not a server fault: the saved app's test says so.
      await expect(managed.integrations.get('db-app')).rejects.toMatchObject({
        name: 'ConflictError',
        message: expect.stringContaining(
          'Integration "db-app" secret appSecret: the secret does not decrypt with key "k1"',
        ),
      });

      // Views never decrypt, so the integration stays listed; sending the damaged secret again repairs it.
      expect(
        (await managed.integrations.list()).map(i => [i.id, i.secrets]),
      ).toEqual([
        [
          'db-app',
          { appSecret: true, verificationToken: true, encryptKey: false },
        ],
      ]);
      const { appSecret: _appSecret, ...withoutSecret } = app('db-app');
      const unreadable = {
        name: 'InputError',
        message:
          'body.appSecret: the stored value cannot be read with the current imApproval.secretsKey; enter it again',
      };
      await expect(
        managed.integrations.update(
          'db-app',
          { ...withoutSecret, title: 'kept' },
          'user:default/bob',
        ),
      ).rejects.toMatchObject(unreadable);
      // A test before saving lends the stored secrets the same way.
      await expect(
        managed.integrations.unsaved({ ...withoutSecret, title: 'kept' }),
      ).rejects.toMatchObject(unreadable);
      // The damaged secret is not decrypted when the request brings its own.
      expect(
        await managed.integrations.unsaved({
          ...withoutSecret,
          appSecret: 'typed',
        }),
      ).toMatchObject({ appSecret: 'typed', verificationToken: 'token' });
      await managed.integrations.update(
        'db-app',
        { ...withoutSecret, appSecret: 'entered again' },
        'user:default/bob',
      );
      expect(await managed.integrations.get('db-app')).toEqual({
        ...app('db-app'),
        appSecret: 'entered again',
      });
    });

    it('refuses to start when app-config defines an id the database has too', async () => {
      await (
        await settings(new SecretBox([key1]))
      ).integrations.create(app('shared'), 'user:default/ann');
      await expect(
        settings(new SecretBox([key1]), {
          integrations: [app('shared')],
          templates: [],
        }),
      ).rejects.toThrow(
        '"shared" is defined both in app-config and in the database',
      );
    });

    it('keeps templates, finds the ones using an integration, and deletes an integration with its secrets', async () => {
      const managed = await settings(new SecretBox([key1]), {
        integrations: [app('config-app')],
        templates: [],
      });
      await managed.integrations.create(app('db-app'), 'user:default/ann');
      await managed.templates.create(
        template('b-template', 'db-app'),
        'user:default/ann',
      );
      await managed.templates.create(
        template('a-template', 'config-app'),
        'user:default/ann',
      );

      expect(await store.templatesUsing('db-app')).toEqual(['b-template']);
      expect(await managed.templates.get('b-template')).toEqual(
        template('b-template', 'db-app'),
      );
      expect((await managed.templates.list()).map(t => t.name)).toEqual([
        'a-template',
        'b-template',
      ]);

      await managed.templates.delete('b-template');
      await managed.integrations.delete('db-app');
      expect(await store.getIntegration('db-app')).toBeUndefined();
      expect(
        Number(
          (await knex('im_approval_integration_secrets').count({ n: '*' }))[0]
            .n,
        ),
      ).toBe(0);
    });

    it('warns at start-up about a stored Feishu integration over callbacks without an Encrypt Key, naming the fix', async () => {
      const box = new SecretBox([key1]);
      const { appSecret, verificationToken, ...settingsOnly } =
        app('legacy-app');
      await store.insertIntegration(
        {
          id: 'legacy-app',
          provider: 'feishu',
          settings: { ...settingsOnly, connectionMode: 'callback' },
          secrets: {
            appSecret: box.encrypt(appSecret, 'legacy-app/appSecret'),
            verificationToken: box.encrypt(
              verificationToken!,
              'legacy-app/verificationToken',
            ),
          },
        },
        'user:default/ann',
      );
      const warn = jest.spyOn(logger, 'warn');
      const managed = await settings(box);
      expect(warn).toHaveBeenCalledWith(
        expect.stringMatching(
          /^The stored integration "legacy-app" is not valid any more: encryptKey: is required when connectionMode is callback.*; edit it on the IM apps page/,
        ),
      );
      await expect(managed.integrations.get('legacy-app')).rejects.toThrow(
        /encryptKey: is required when connectionMode is callback/,
      );
      expect((await managed.integrations.list()).map(i => i.id)).toEqual([
        'legacy-app',
      ]);
    });

    it("replaces all of an integration's secrets in one update", async () => {
      const managed = await settings(new SecretBox([key1]));
      await managed.integrations.create(
        { ...app('db-app'), encryptKey: 'enc' },
        'user:default/ann',
      );
      const { encryptKey: _encryptKey, ...withoutKey } = app('db-app');
      await managed.integrations.update(
        'db-app',
        { ...withoutKey, encryptKey: null, appSecret: 'rotated' },
        'user:default/bob',
      );
      expect(await managed.integrations.get('db-app')).toEqual({
        ...app('db-app'),
        appSecret: 'rotated',
      });
      expect((await knex('im_approval_integrations').first()).updated_by).toBe(
        'user:default/bob',
      );
    });
  },
);
