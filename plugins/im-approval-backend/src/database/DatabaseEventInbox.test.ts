import { TestDatabases } from '@backstage/backend-test-utils';
import { randomUUID } from 'node:crypto';
import { migratedClient } from './migratedClient';
import { DatabaseEventInbox } from './DatabaseEventInbox';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['POSTGRES_15', 'SQLITE_3'] });

describe.each(databases.eachSupportedId())(
  'DatabaseEventInbox on %p',
  databaseId => {
    let inbox: DatabaseEventInbox;
    let otherReplica: DatabaseEventInbox;

    beforeAll(async () => {
      const knex = await databases.init(databaseId);
      await migratedClient({ getClient: async () => knex });
      inbox = new DatabaseEventInbox(knex);
      otherReplica = new DatabaseEventInbox(knex);
    });

    const event = (eventId: string = randomUUID()) => ({
      eventId,
      instanceId: `inst-${eventId}`,
    });

    it('records an event once: a redelivery is not fresh', async () => {
      const first = event();
      expect(
        await inbox.record('im', [first, first], 'callback', 10_000),
      ).toEqual([first]);
      const other = event();
      expect(
        await inbox.record('im', [first, other], 'callback', 10_000),
      ).toEqual([other]);
    });

    it('of concurrent records, each caller gets its own fresh events, and a repeated event is fresh once', async () => {
      const shared = event();
      const [a, b] = [event(), event()];
      const answers = await Promise.all([
        inbox.record('burst-1', [shared, a], 'callback', 10_000),
        inbox.record('burst-1', [shared], 'callback', 10_000),
        otherReplica.record('burst-1', [shared, b], 'connection', 10_000),
        // The same event id in another integration is another event.
        inbox.record('burst-2', [shared], 'callback', 10_000),
      ]);
      expect(answers[0]).toContainEqual(a);
      expect(answers[2]).toContainEqual(b);
      expect(answers[3]).toEqual([shared]);
      expect(
        answers.slice(0, 3).filter(fresh => fresh.includes(shared)),
      ).toHaveLength(1);
    });

    it('marks events done that are completed together, across integrations', async () => {
      const [one, two, three] = [event(), event(), event()];
      await inbox.record('done-1', [one, two], 'callback', -1);
      await inbox.record('done-2', [three], 'callback', -1);
      await Promise.all([
        inbox.done('done-1', [one.eventId]),
        inbox.done('done-1', [two.eventId]),
        inbox.done('done-2', [three.eventId]),
      ]);
      const claimed = (await inbox.claimDue(100, 10_000)).filter(e =>
        ['done-1', 'done-2'].includes(e.integration),
      );
      expect(claimed).toEqual([]);
    });

    it('keeps events with ids longer than its column, and with NUL, apart', async () => {
      const long = event(`${'e'.repeat(300)}-a`);
      const twin = event(`${'e'.repeat(300)}-b`);
      const nul = event('nul\u0000id');
      expect(
        await inbox.record('im', [long, twin, nul], 'connection', 10_000),
      ).toHaveLength(3);
      expect(
        await inbox.record('im', [long, twin, nul], 'connection', 10_000),
      ).toEqual([]);
    });

    it('hands an event left unprocessed past its lease to exactly one claimer', async () => {
      const orphan = event();
      await inbox.record('crashed', [orphan], 'callback', -1);
      const [mine, theirs] = await Promise.all([
        inbox.claimDue(100, 10_000),
        otherReplica.claimDue(100, 10_000),
      ]);
      const claims = [...mine, ...theirs].filter(
        claimed => claimed.integration === 'crashed',
      );
      expect(claims).toEqual([
        {
          integration: 'crashed',
          eventId: orphan.eventId,
          instanceId: orphan.instanceId,
          source: 'callback',
          attempts: 2,
        },
      ]);
      expect(
        (await inbox.claimDue(100, 10_000)).filter(
          claimed => claimed.integration === 'crashed',
        ),
      ).toEqual([]);
    });

    it('does not hand out processed events; retries failed ones after their delay, with the error kept', async () => {
      const processed = event();
      const failed = event();
      await inbox.record('work', [processed, failed], 'callback', -1);
      await inbox.done('work', [processed.eventId]);
      await inbox.retryLater('work', [failed.eventId], 'IM down', -1);
      const claimed = (await inbox.claimDue(100, 10_000)).filter(
        e => e.integration === 'work',
      );
      expect(claimed.map(e => e.eventId)).toEqual([failed.eventId]);
      await inbox.done('work', [failed.eventId]);
      expect(
        await inbox.prune(new Date(Date.now() + 1000)),
      ).toBeGreaterThanOrEqual(2);
      // Pruned: a much later redelivery is recorded again (and, as a doorbell, only causes a read).
      expect(
        await inbox.record('work', [processed], 'callback', 10_000),
      ).toEqual([processed]);
    });
  },
);
