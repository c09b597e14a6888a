import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { IDS_PER_NOTIFICATION, PostgresChangeBus } from './PostgresChangeBus';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['POSTGRES_15'] });

describe.each(databases.eachSupportedId())(
  'PostgresChangeBus on %p',
  databaseId => {
    const buses: PostgresChangeBus[] = [];
    afterAll(() => Promise.all(buses.map(bus => bus.stop())));

    async function replicas() {
      const knex = await databases.init(databaseId);
      const [publisher, listener] = [0, 1].map(
        () => new PostgresChangeBus(knex, mockServices.logger.mock()),
      );
      buses.push(publisher, listener);
      const heard: string[] = [];
      await listener.start({
        onChange: id => heard.push(id),
        onGap: () => undefined,
      });
      return { knex, publisher, heard };
    }

    const until = async (done: () => boolean) => {
      const deadline = Date.now() + 10_000;
      while (!done() && Date.now() < deadline)
        await new Promise(resolve => setTimeout(resolve, 20));
    };

    it('tells the other replicas of every change, those of one turn in one notification', async () => {
      const { knex, publisher, heard } = await replicas();
      // What goes over the wire, seen by a plain listener.
      const raw = await (
        knex.client as {
          acquireRawConnection(): Promise<{
            query(sql: string): Promise<unknown>;
            on(event: 'notification', listener: () => void): void;
            end(): Promise<void>;
          }>;
        }
      ).acquireRawConnection();
      let notifications = 0;
      raw.on('notification', () => notifications++);
      await raw.query('LISTEN im_approval_changed');
      try {
        const together = [randomUUID(), randomUUID(), randomUUID()];
        await Promise.all(together.map(id => publisher.publish(id)));
        const later = randomUUID();
        await publisher.publish(later);
        await until(() => heard.length >= 4 && notifications >= 2);
        expect(heard).toEqual([...together, later]);
        expect(notifications).toBe(2);
      } finally {
        await raw.end();
      }
    });

    /** The sessions still listening on a channel, by the last statement each ran. */
    const listening = async (knex: Knex, channel: string) =>
      Number(
        (
          await knex.raw(
            'select count(*) as n from pg_stat_activity where query = ?',
            [`LISTEN ${channel}`],
          )
        ).rows[0].n,
      );

    it('fits the longest ids, 64-character integration ids, in notifications PostgreSQL takes', async () => {
      const knex = await databases.init(databaseId);
      const channel = 'im_approval_test_long_ids';
      const [publisher, listener] = [0, 1].map(
        () => new PostgresChangeBus(knex, mockServices.logger.mock(), channel),
      );
      buses.push(publisher, listener);
      const heard: string[] = [];
      await listener.start({
        onChange: id => heard.push(id),
        onGap: () => undefined,
      });
      const raw = await (
        knex.client as {
          acquireRawConnection(): Promise<{
            query(sql: string): Promise<unknown>;
            on(event: 'notification', listener: () => void): void;
            end(): Promise<void>;
          }>;
        }
      ).acquireRawConnection();
      let notifications = 0;
      raw.on('notification', () => notifications++);
      await raw.query(`LISTEN ${channel}`);
      try {
        const ids = Array.from({ length: 300 }, (_, i) =>
          `app-${i}-`.padEnd(64, 'x'),
        );
        await Promise.all(ids.map(id => publisher.publish(id)));
        const expected = Math.ceil(ids.length / IDS_PER_NOTIFICATION);
        // The raw listener is a connection of its own: wait for it too.
        await until(
          () => heard.length >= ids.length && notifications >= expected,
        );
        // Each batch goes out on a pooled connection of its own, so batches may arrive in any order.
        expect([...heard].sort()).toEqual([...ids].sort());
        // Had a batch been refused as too long, its ids would have gone one notification each.
        expect(notifications).toBe(expected);
      } finally {
        await raw.end();
      }
    });

    it('leaves no LISTEN connection open when stopped while connecting', async () => {
      const knex = await databases.init(databaseId);
      const channel = 'im_approval_test_stopped';
      const bus = new PostgresChangeBus(
        knex,
        mockServices.logger.mock(),
        channel,
      );
      const started = bus.start({
        onChange: () => undefined,
        onGap: () => undefined,
      });
      await bus.stop();
      await started;
      const deadline = Date.now() + 3_000;
      while ((await listening(knex, channel)) > 0 && Date.now() < deadline)
        await new Promise(resolve => setTimeout(resolve, 50));
      // Give a connection made late the time to show up.
      await new Promise(resolve => setTimeout(resolve, 200));
      expect(await listening(knex, channel)).toBe(0);
    });

    it('names its channel when it loses and restores its connection', async () => {
      const knex = await databases.init(databaseId);
      const channel = 'im_approval_test_lost';
      const logger = mockServices.logger.mock();
      const bus = new PostgresChangeBus(knex, logger, channel);
      buses.push(bus);
      let gaps = 0;
      await bus.start({ onChange: () => undefined, onGap: () => gaps++ });
      await knex.raw(
        'select pg_terminate_backend(pid) from pg_stat_activity where query = ?',
        [`LISTEN ${channel}`],
      );
      await until(() => gaps === 1);
      expect(logger.warn).toHaveBeenCalledWith(
        expect.stringContaining(
          `Lost the PostgreSQL LISTEN connection for ${channel}`,
        ),
      );
      expect(logger.info).toHaveBeenCalledWith(
        `PostgreSQL LISTEN connection for ${channel} restored`,
      );
    });

    it('hears a notification naming one approval, as a replica of the previous version sends it', async () => {
      const { knex, heard } = await replicas();
      const id = randomUUID();
      await knex.raw('select pg_notify(?, ?)', ['im_approval_changed', id]);
      await until(() => heard.length >= 1);
      expect(heard).toEqual([id]);
    });
  },
);
