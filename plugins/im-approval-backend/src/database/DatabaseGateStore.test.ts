import { TestDatabases } from '@backstage/backend-test-utils';
import type { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import { DatabaseGateStore } from './DatabaseGateStore';
import { migratedClient } from './migratedClient';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['POSTGRES_15', 'SQLITE_3'] });

const held = (verdict?: { state: 'rejected'; comment: string }) => ({
  id: randomUUID().replaceAll('-', ''),
  gate: 'production',
  repository: 'acme/api',
  runId: '77',
  environment: 'production',
  installationId: '1',
  request: {
    template: 'deploy',
    context: {
      repository: 'acme/api',
      verified: true,
      caller: 'github:acme/api',
    },
    variables: {},
  },
  verdict,
});

describe.each(databases.eachSupportedId())(
  'DatabaseGateStore on %p',
  databaseId => {
    let knex: Knex;
    let store: DatabaseGateStore;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      await migratedClient({ getClient: async () => knex });
      store = new DatabaseGateStore(knex);
    });

    it('records a held job once, whatever asks again', async () => {
      const job = held();
      expect((await store.insert(job)).created).toBe(true);
      const again = await store.insert({ ...job, gate: 'other' });
      expect(again).toMatchObject({
        created: false,
        record: { gate: 'production' },
      });
    });

    it('gives a due verdict to one claimer of many, and to nobody once reported', async () => {
      const job = held({ state: 'rejected', comment: 'policy' });
      await store.insert(job);
      const claims = await Promise.all(
        Array.from({ length: 5 }, () => store.claimDue(50, 60_000)),
      );
      const mine = claims.flat().filter(claimed => claimed.id === job.id);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({
        reportAttempts: 1,
        verdict: { state: 'rejected' },
      });
      // Its lease holds it back from the others until it is retried or reported.
      expect(
        (await store.claimDue(50, 60_000)).some(c => c.id === job.id),
      ).toBe(false);
      await store.retryLater(job.id, 'GitHub answered 503', 0);
      const retried = await store.claimDue(50, 60_000);
      expect(retried.find(c => c.id === job.id)?.reportAttempts).toBe(2);
      await store.markReported(job.id, 'rejected');
      await store.retryLater(job.id, 'late', 0);
      expect(
        (await store.claimDue(50, 60_000)).some(c => c.id === job.id),
      ).toBe(false);
    });

    it('hands out at most the limit of status reports, also to concurrent takers', async () => {
      const job = held();
      await store.insert(job);
      const taken = await Promise.all(
        Array.from({ length: 14 }, () => store.takeStatusReport(job.id, 10)),
      );
      expect(taken.filter(Boolean)).toHaveLength(10);
    });

    it('forgets deliveries older than asked', async () => {
      const at = (daysAgo: number) =>
        new Date(Date.now() - daysAgo * 86_400_000).toISOString();
      const old = randomUUID();
      const recent = randomUUID();
      for (const [id, receivedAt] of [
        [old, at(8)],
        [recent, at(1)],
      ])
        await store.recordDelivery({
          id,
          event: 'ping',
          action: null,
          receivedAt,
          outcome: 'accepted',
          message: 'pong',
        });
      expect(
        await store.pruneDeliveries(new Date(Date.now() - 7 * 86_400_000)),
      ).toBeGreaterThanOrEqual(1);
      expect(await store.hasDelivery(old)).toBe(false);
      expect(await store.hasDelivery(recent)).toBe(true);
    });
  },
);
