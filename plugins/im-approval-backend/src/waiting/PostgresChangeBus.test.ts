import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import { randomUUID } from 'node:crypto';
import { PostgresChangeBus } from './PostgresChangeBus';

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

    it('hears a notification naming one approval, as a replica of the previous version sends it', async () => {
      const { knex, heard } = await replicas();
      const id = randomUUID();
      await knex.raw('select pg_notify(?, ?)', ['im_approval_changed', id]);
      await until(() => heard.length >= 1);
      expect(heard).toEqual([id]);
    });
  },
);
