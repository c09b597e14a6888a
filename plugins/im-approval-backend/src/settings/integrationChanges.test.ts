import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import {
  feishuIntegrationSchema,
  templateSchema,
  type FeishuIntegration,
} from '@im-approval/plugin-im-approval-common';
import type { ImProvider } from '@im-approval/plugin-im-approval-node';
import type { Knex } from 'knex';
import { randomBytes } from 'node:crypto';
import { DatabaseManagedFormStore } from '../database/DatabaseManagedFormStore';
import { DatabaseSettingsStore } from '../database/DatabaseSettingsStore';
import { migratedClient } from '../database/migratedClient';
import { feishuProvider } from '../providers/feishu';
import { ImClients } from '../service/ImClients';
import { openSettings } from './openSettings';
import { SecretBox } from './SecretBox';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['POSTGRES_15', 'SQLITE_3'] });
const logger = mockServices.logger.mock();
const clients = new ImClients(
  new Map([['feishu', feishuProvider as ImProvider]]),
  { logger, callbackMaxAgeSeconds: 300, keepToRateLimits: true },
);
const box = new SecretBox([{ id: 'k1', key: randomBytes(32) }]);

const app = (id: string, connectionMode = 'long-connection') =>
  feishuIntegrationSchema.parse({
    id,
    provider: 'feishu',
    baseUrl: 'http://127.0.0.1:9',
    appId: 'cli_a1b2c3d4e5f60718',
    appSecret: `secret-of-${id}`,
    connectionMode,
    initiator: 'ou_bot',
  }) as FeishuIntegration;

describe.each(databases.eachSupportedId())(
  'what the connections learn of integrations, on %p',
  databaseId => {
    let knex: Knex;
    let store: DatabaseSettingsStore;
    const open = (integrations: FeishuIntegration[] = []) =>
      openSettings({
        config: { integrations, templates: [] },
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

    it('tells of each stored create, update and delete, and not of a refused one', async () => {
      const { integrations, templates } = await open();
      const heard: string[] = [];
      integrations.onChanged(id => heard.push(id));

      await integrations.create(app('lc-app'), 'user:default/ann');
      await integrations.update(
        'lc-app',
        { ...app('lc-app'), title: 'Renamed' },
        'user:default/ann',
      );
      await templates.create(
        templateSchema.parse({
          name: 'deploy',
          integration: 'lc-app',
          form: 'CODE',
          approvers: ['ou_alice'],
        }),
        'user:default/ann',
      );
      await expect(integrations.delete('lc-app')).rejects.toThrow(
        'used by template(s) "deploy"',
      );
      await expect(
        integrations.create(app('lc-app'), 'user:default/ann'),
      ).rejects.toThrow('is taken');
      expect(heard).toEqual(['lc-app', 'lc-app']);

      await templates.delete('deploy');
      await integrations.delete('lc-app');
      expect(heard).toEqual(['lc-app', 'lc-app', 'lc-app']);
    });

    it("reads app-config's integrations and the database's, and says why one no longer opens", async () => {
      const { integrations } = await open([app('from-config', 'poll')]);
      await integrations.create(app('fine'), 'user:default/ann');
      await integrations.create(app('tampered'), 'user:default/ann');
      const row = await knex('im_approval_integration_secrets')
        .where({ integration_id: 'tampered', field: 'appSecret' })
        .first();
      const flipped = Buffer.from(row.ciphertext, 'base64');
      flipped[0] ^= 1;
      await knex('im_approval_integration_secrets')
        .where({ integration_id: 'tampered', field: 'appSecret' })
        .update({ ciphertext: flipped.toString('base64') });

      const current = await integrations.current();
      expect(current.integrations.map(i => i.id)).toEqual([
        'from-config',
        'fine',
      ]);
      expect(current.integrations[1]).toEqual(app('fine'));
      expect(current.unreadable).toEqual([
        {
          id: 'tampered',
          message: expect.stringContaining(
            'enter the appSecret again in the integration',
          ),
        },
      ]);
      expect(JSON.stringify(current.unreadable)).not.toContain(
        'secret-of-tampered',
      );
    });
  },
);
