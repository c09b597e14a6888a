import { TestDatabases } from '@backstage/backend-test-utils';
import { randomUUID } from 'node:crypto';
import { DatabaseApprovalStore } from './DatabaseApprovalStore';
import { migratedClient } from './migratedClient';
import type { NewApproval } from './ApprovalStore';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['POSTGRES_15', 'SQLITE_3'] });

function newApproval(overrides: Partial<NewApproval> = {}): NewApproval {
  return {
    id: randomUUID(),
    caller: 'github:acme/api',
    idempotencyKey: randomUUID(),
    request: { template: 'deploy', variables: { service: 'api' } },
    template: 'deploy',
    integration: 'feishu-main',
    provider: 'feishu',
    title: 'Deploy api',
    context: {
      repository: 'acme/api',
      ref: 'refs/heads/main',
      verified: true,
      caller: 'github:acme/api',
    },
    variables: { service: 'api' },
    form: [{ field: 'Service', value: 'api' }],
    approvers: ['alice@example.com'],
    stages: [],
    cc: [],
    approverRefs: [],
    requester: { name: 'octocat', identifiedBy: 'github-actor' },
    expiresAt: new Date(Date.now() + 3_600_000),
    ...overrides,
  };
}

describe.each(databases.eachSupportedId())(
  'DatabaseApprovalStore on %p',
  databaseId => {
    let store: DatabaseApprovalStore;

    beforeAll(async () => {
      const knex = await databases.init(databaseId);
      store = new DatabaseApprovalStore(
        await migratedClient({ getClient: async () => knex }),
      );
    });

    it('inserts once per idempotency key and returns the first approval for a repeat', async () => {
      const first = newApproval({ cc: ['carol@example.com', 'ou_dave'] });
      const created = await store.insert(first, {
        type: 'created',
        source: 'api',
        actor: 'github:acme/api',
      });
      expect(created.created).toBe(true);
      expect(created.approval).toMatchObject({
        id: first.id,
        status: 'pending',
        form: first.form,
        context: first.context,
        cc: ['carol@example.com', 'ou_dave'],
      });
      expect((await store.get(first.id))?.cc).toEqual(first.cc);

      const repeat = await store.insert(
        { ...newApproval(), idempotencyKey: first.idempotencyKey },
        { type: 'created', source: 'api' },
      );
      expect(repeat).toEqual({
        approval: created.approval,
        request: first.request,
        created: false,
      });
      expect(await store.timeline(first.id)).toHaveLength(1);
    });

    it('reads the status and last write of the approvals asked about, as get reads them', async () => {
      const quiet = newApproval();
      const decided = newApproval();
      for (const approval of [quiet, decided])
        await store.insert(approval, { type: 'created', source: 'api' });
      const before = await store.get(decided.id);
      await new Promise(resolve => setTimeout(resolve, 20));
      await store.transition(
        decided.id,
        { status: 'approved' },
        { type: 'approved', source: 'callback' },
      );
      const after = await store.get(decided.id);
      const quietNow = await store.get(quiet.id);

      const unknown = Array.from({ length: 450 }, () => randomUUID());
      const versions = await store.versions([...unknown, quiet.id, decided.id]);
      // More ids than one statement takes are asked in several; unknown ones are left out.
      expect(versions.sort((x, y) => x.id.localeCompare(y.id))).toEqual(
        [
          { id: quiet.id, status: 'pending', updatedAt: quietNow!.updatedAt },
          { id: decided.id, status: 'approved', updatedAt: after!.updatedAt },
        ].sort((x, y) => x.id.localeCompare(y.id)),
      );
      expect(after!.updatedAt).not.toBe(before!.updatedAt);
      expect(await store.versions([])).toEqual([]);
    });

    it('scopes an idempotency key to its caller', async () => {
      const key = randomUUID();
      const workflow = await store.insert(
        newApproval({ idempotencyKey: key }),
        { type: 'created', source: 'api' },
      );
      const service = await store.insert(
        newApproval({ idempotencyKey: key, caller: 'external:deploy-bot' }),
        { type: 'created', source: 'api' },
      );
      expect(service.created).toBe(true);
      expect(service.approval.id).not.toBe(workflow.approval.id);
      expect(
        (await store.getByIdempotencyKey('github:acme/api', key))?.approval.id,
      ).toBe(workflow.approval.id);
      expect(
        (await store.getByIdempotencyKey('external:deploy-bot', key))?.approval
          .id,
      ).toBe(service.approval.id);
      expect(
        await store.getByIdempotencyKey('github:acme/other', key),
      ).toBeUndefined();
    });

    it('keeps two callers apart when their keys are read together, whatever characters they hold', async () => {
      // With a separator between caller and key, ("a\u0001b", "c") and ("a", "b\u0001c") would meet.
      const [left, right] = [
        newApproval({ caller: 'external:a\u0001b', idempotencyKey: 'c' }),
        newApproval({ caller: 'external:a', idempotencyKey: 'b\u0001c' }),
      ];
      for (const approval of [left, right])
        await store.insert(approval, { type: 'created', source: 'api' });
      const found = await Promise.all([
        store.getByIdempotencyKey(left.caller, left.idempotencyKey),
        store.getByIdempotencyKey(right.caller, right.idempotencyKey),
      ]);
      expect(found.map(f => f?.approval.id)).toEqual([left.id, right.id]);
    });

    it('stores text from an IM that PostgreSQL cannot hold as it is, NUL made visible', async () => {
      const approval = newApproval();
      await store.insert(approval, { type: 'created', source: 'api' });
      const instanceId = `inst-\u0000-${'x'.repeat(300)}`;
      await store.attachInstance(
        approval.id,
        { instanceId, url: 'https://im.example/\u0000' },
        { type: 'im_instance_created', source: 'api' },
      );
      expect((await store.findByInstance('feishu-main', instanceId))?.id).toBe(
        approval.id,
      );
      const decided = await store.transition(
        approval.id,
        {
          status: 'approved',
          decidedBy: {
            id: `ou_\u0000${'a'.repeat(300)}`,
            name: `${'Ada '.repeat(100)}\u0000`,
          },
          comment: 'ok\u0000then',
        },
        {
          type: 'approved',
          source: 'callback',
          actor: `${'Ada '.repeat(100)}\u0000`,
          message: 'ok\u0000then',
        },
      );
      expect(decided).toMatchObject({
        status: 'approved',
        comment: 'ok\uFFFDthen',
      });
      expect(decided!.decidedBy).toHaveLength(401);
      expect(decided!.decidedById).toBe(`ou_\uFFFD${'a'.repeat(300)}`);
      expect((await store.timeline(approval.id)).at(-1)).toMatchObject({
        message: 'ok\uFFFDthen',
      });
    });

    it('keeps the last IM error of an approval that expires without an instance, and clears it once one is made', async () => {
      const stranded = newApproval();
      await store.insert(stranded, { type: 'created', source: 'api' });
      await store.recordImError(stranded.id, {
        type: 'im_error',
        source: 'reconciler',
        message: 'Feishu is unavailable',
      });
      expect((await store.get(stranded.id))?.error).toBe(
        'Feishu is unavailable',
      );
      const expired = await store.transition(
        stranded.id,
        { status: 'expired' },
        { type: 'expired', source: 'scheduler' },
      );
      expect(expired).toMatchObject({
        status: 'expired',
        error: 'Feishu is unavailable',
      });

      const recovered = newApproval();
      await store.insert(recovered, { type: 'created', source: 'api' });
      await store.recordImError(recovered.id, {
        type: 'im_error',
        source: 'api',
        message: 'timed out',
      });
      const attached = await store.attachInstance(
        recovered.id,
        { instanceId: randomUUID() },
        { type: 'im_instance_created', source: 'reconciler' },
      );
      expect(attached?.error).toBeNull();
    });

    it('lets exactly one of many concurrent transitions win', async () => {
      const approval = newApproval();
      await store.insert(approval, { type: 'created', source: 'api' });
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          store.transition(
            approval.id,
            {
              status: i % 2 ? 'approved' : 'rejected',
              decidedBy: { id: `user${i}`, name: `User ${i}` },
            },
            {
              type: i % 2 ? 'approved' : 'rejected',
              source: 'callback',
              actor: `user${i}`,
            },
          ),
        ),
      );
      const winners = results.filter(Boolean);
      expect(winners).toHaveLength(1);
      const stored = await store.get(approval.id);
      expect(stored?.status).toBe(winners[0]!.status);
      expect(stored?.decidedBy).toBe(winners[0]!.decidedBy);
      expect((await store.timeline(approval.id)).map(e => e.type)).toEqual([
        'created',
        winners[0]!.status,
      ]);
    });

    it('never changes a terminal approval', async () => {
      const approval = newApproval();
      await store.insert(approval, { type: 'created', source: 'api' });
      await store.transition(
        approval.id,
        { status: 'canceled' },
        { type: 'canceled', source: 'api' },
      );
      expect(
        await store.transition(
          approval.id,
          { status: 'approved' },
          { type: 'approved', source: 'callback' },
        ),
      ).toBeUndefined();
      expect(
        await store.attachInstance(
          approval.id,
          { instanceId: 'late' },
          { type: 'im_instance_created', source: 'api' },
        ),
      ).toBeUndefined();
      expect((await store.get(approval.id))?.status).toBe('canceled');
    });

    it('attaches an IM instance once and finds the approval by it', async () => {
      const approval = newApproval();
      await store.insert(approval, { type: 'created', source: 'api' });
      const attached = await store.attachInstance(
        approval.id,
        { instanceId: 'INST-1', url: 'https://im/INST-1' },
        { type: 'im_instance_created', source: 'api' },
      );
      expect(attached).toMatchObject({
        imInstanceId: 'INST-1',
        imUrl: 'https://im/INST-1',
      });
      expect(
        await store.attachInstance(
          approval.id,
          { instanceId: 'INST-2' },
          { type: 'im_instance_created', source: 'api' },
        ),
      ).toBeUndefined();
      expect((await store.findByInstance('feishu-main', 'INST-1'))?.id).toBe(
        approval.id,
      );
      expect(
        await store.findByInstance('other-integration', 'INST-1'),
      ).toBeUndefined();
    });

    it("records the IM's labels of the form's fields with the instance, in the same update, and keeps the form otherwise", async () => {
      const approval = newApproval({
        form: [
          { field: 'Service', value: 'api' },
          { field: 'widget_reason', value: 'release 1.2' },
        ],
      });
      await store.insert(approval, { type: 'created', source: 'api' });
      const form = [
        { field: 'Service', value: 'api', label: 'Service' },
        { field: 'widget_reason', value: 'release 1.2', label: '变更原因' },
      ];
      const attached = await store.attachInstance(
        approval.id,
        { instanceId: `LABELS-${approval.id}`, form },
        { type: 'im_instance_created', source: 'api' },
      );
      expect(attached?.form).toEqual(form);
      expect((await store.get(approval.id))?.form).toEqual(form);
      // A late second attach changes neither the instance nor the labels.
      expect(
        await store.attachInstance(
          approval.id,
          {
            instanceId: 'LABELS-late',
            form: [{ field: 'Service', value: 'api', label: 'Other' }],
          },
          { type: 'im_instance_created', source: 'api' },
        ),
      ).toBeUndefined();
      expect((await store.get(approval.id))?.form).toEqual(form);

      // Without labels (an IM that tells none), the form is left as stored.
      const unlabelled = newApproval();
      await store.insert(unlabelled, { type: 'created', source: 'api' });
      const plain = await store.attachInstance(
        unlabelled.id,
        { instanceId: `LABELS-${unlabelled.id}` },
        { type: 'im_instance_created', source: 'api' },
      );
      expect(plain?.form).toEqual(unlabelled.form);
    });

    it('answers reads made together, by id and by IM instance, each with its own approval', async () => {
      const [first, second] = [newApproval(), newApproval()];
      const other = newApproval({ integration: 'other-integration' });
      for (const approval of [first, second, other])
        await store.insert(approval, { type: 'created', source: 'api' });
      for (const [approval, instanceId] of [
        [first, 'TOGETHER-1'],
        [second, 'TOGETHER-2'],
        [other, 'TOGETHER-1'],
      ] as const)
        await store.attachInstance(
          approval.id,
          { instanceId },
          { type: 'im_instance_created', source: 'api' },
        );
      const ids = await Promise.all([
        store.get(second.id),
        store.get(first.id),
        store.get(randomUUID()),
        store.get(second.id),
        store.findByInstance('feishu-main', 'TOGETHER-1'),
        store.findByInstance('other-integration', 'TOGETHER-1'),
        store.findByInstance('feishu-main', 'TOGETHER-2'),
        store.findByInstance('other-integration', 'TOGETHER-2'),
      ]).then(found => found.map(approval => approval?.id));
      expect(ids).toEqual([
        second.id,
        first.id,
        undefined,
        second.id,
        first.id,
        other.id,
        second.id,
        undefined,
      ]);
    });

    it('answers writes made together each with its own approval: inserts (a repeated key among them), key reads, instance attaches (two to one approval)', async () => {
      const [first, second] = [newApproval(), newApproval()];
      const repeat = newApproval({ idempotencyKey: first.idempotencyKey });
      const inserted = await Promise.all(
        [first, second, repeat].map(approval =>
          store.insert(approval, {
            type: 'created',
            source: 'api',
            message: approval.id,
          }),
        ),
      );
      // The repeat and the first race for their key: one creates, and both answer the winner.
      const winner = inserted[0].created ? first : repeat;
      expect(inserted.map(i => [i.approval.id, i.created])).toEqual([
        [winner.id, winner === first],
        [second.id, true],
        [winner.id, winner === repeat],
      ]);
      const byKey = await Promise.all([
        store.getByIdempotencyKey(second.caller, second.idempotencyKey),
        store.getByIdempotencyKey('someone else', second.idempotencyKey),
        store.getByIdempotencyKey(winner.caller, winner.idempotencyKey),
      ]);
      expect(byKey.map(found => found?.approval.id)).toEqual([
        second.id,
        undefined,
        winner.id,
      ]);

      const attached = await Promise.all([
        store.attachInstance(
          winner.id,
          { instanceId: `BATCH-${winner.id}` },
          { type: 'im_instance_created', source: 'api', message: 'winner' },
        ),
        store.attachInstance(
          second.id,
          {
            instanceId: `BATCH-${second.id}`,
            url: 'https://im/second',
            form: [{ field: 'Service', value: 'api', label: 'Service' }],
          },
          { type: 'im_instance_created', source: 'api', message: 'second' },
        ),
        store.attachInstance(
          winner.id,
          { instanceId: `BATCH-late-${winner.id}` },
          { type: 'im_instance_created', source: 'api', message: 'late' },
        ),
      ]);
      expect(attached.map(a => a && [a.id, a.imInstanceId, a.imUrl])).toEqual([
        [winner.id, `BATCH-${winner.id}`, null],
        [second.id, `BATCH-${second.id}`, 'https://im/second'],
        undefined,
      ]);
      expect(attached[1]?.form).toEqual([
        { field: 'Service', value: 'api', label: 'Service' },
      ]);
      expect(attached[0]?.form).toEqual(winner.form);
      for (const [approval, messages] of [
        [winner, [winner.id, 'winner']],
        [second, [second.id, 'second']],
      ] as const)
        expect(
          (await store.timeline(approval.id)).map(event => event.message),
        ).toEqual(messages);
    });

    it('finds the latest approved approval of the same template, repository and environment, never a test', async () => {
      const line = `deploy-${randomUUID()}`;
      const open = async (overrides: Partial<NewApproval> = {}) => {
        const approval = newApproval({
          template: line,
          ...overrides,
          context: {
            ...newApproval().context,
            environment: 'production',
            ...overrides.context,
          },
        });
        return (
          await store.insert(approval, { type: 'created', source: 'api' })
        ).approval;
      };
      const decide = (id: string, status: 'approved' | 'rejected') =>
        store.transition(id, { status }, { type: status, source: 'callback' });
      const first = await open({
        context: { ...newApproval().context, sha: 'a1' },
      });
      await decide(first.id, 'approved');
      const rejected = await open();
      await decide(rejected.id, 'rejected');
      const test = await open({
        context: {
          ...newApproval().context,
          environment: 'production',
          test: true,
        },
      });
      await decide(test.id, 'approved');
      const staging = await open({
        context: { ...newApproval().context, environment: 'staging' },
      });
      await decide(staging.id, 'approved');
      const otherRepository = await open({
        context: { ...newApproval().context, repository: 'acme/web' },
      });
      await decide(otherRepository.id, 'approved');

      const current = await open({
        context: { ...newApproval().context, sha: 'b2' },
      });
      expect((await store.lastApproved(current))?.id).toBe(first.id);
      // An approval is never its own predecessor, and a test has none.
      expect(await store.lastApproved(first)).toBeUndefined();
      expect(await store.lastApproved(test)).toBeUndefined();

      await decide(current.id, 'approved');
      const next = await open();
      expect((await store.lastApproved(next))?.id).toBe(current.id);
    });

    it('lists expired pending approvals only', async () => {
      const past = newApproval({ expiresAt: new Date(Date.now() - 1000) });
      const future = newApproval();
      await store.insert(past, { type: 'created', source: 'api' });
      await store.insert(future, { type: 'created', source: 'api' });
      const expired = (await store.listExpired(new Date(), 100)).map(a => a.id);
      expect(expired).toContain(past.id);
      expect(expired).not.toContain(future.id);
    });

    it('gives each due reminder to one taker alone, moves the next on by the interval, and none past the deadline', async () => {
      const approval = newApproval({
        reminders: { everySeconds: 600 },
        expiresAt: new Date(Date.now() + 1_500_000),
      });
      const { approval: inserted } = await store.insert(approval, {
        type: 'created',
        source: 'api',
      });
      // Timed from the creation itself.
      const created = Date.parse(inserted.createdAt);
      expect(inserted.nextReminderAt).toBe(
        new Date(created + 600_000).toISOString(),
      );
      const now = new Date(created + 600_000);
      expect(
        (await store.listRemindersDue(new Date(created + 599_000), 1000)).map(
          a => a.id,
        ),
      ).not.toContain(approval.id);
      const due = (await store.listRemindersDue(now, 1000)).map(a => a.id);
      expect(due).toContain(approval.id);

      // Two replicas take the same due reminder at once: one wins.
      const taken = await Promise.all([
        store.takeReminder(approval.id, now),
        store.takeReminder(approval.id, now),
      ]);
      expect(taken.filter(n => n !== undefined)).toEqual([1]);
      const after = await store.get(approval.id);
      expect(after?.nextReminderAt).toBe(
        new Date(now.getTime() + 600_000).toISOString(),
      );
      expect(await store.takeReminder(approval.id, now)).toBeUndefined();

      // The second is due at +10m, and the next would fall after the deadline: it is the last.
      const later = new Date(now.getTime() + 600_000);
      expect(await store.takeReminder(approval.id, later)).toBe(2);
      expect((await store.get(approval.id))?.nextReminderAt).toBeNull();
      expect(
        (
          await store.listRemindersDue(
            new Date(now.getTime() + 3_600_000),
            1000,
          )
        ).map(a => a.id),
      ).not.toContain(approval.id);
    });

    it('never reminds an approval that is no longer pending, or one opened without reminders', async () => {
      const now = new Date(Date.now() + 61_000);
      const decided = newApproval({ reminders: { everySeconds: 60 } });
      const silent = newApproval();
      await store.insert(decided, { type: 'created', source: 'api' });
      await store.insert(silent, { type: 'created', source: 'api' });
      await store.transition(
        decided.id,
        { status: 'approved' },
        { type: 'approved', source: 'callback' },
      );
      const due = (await store.listRemindersDue(now, 1000)).map(a => a.id);
      expect(due).not.toContain(decided.id);
      expect(due).not.toContain(silent.id);
      expect(await store.takeReminder(decided.id, now)).toBeUndefined();
      expect(await store.takeReminder(silent.id, now)).toBeUndefined();
      expect((await store.get(silent.id))?.nextReminderAt).toBeNull();
    });

    it('gives a due escalation to one taker for its lease, and once settled it adds the people and is over', async () => {
      const approval = newApproval({
        escalation: { afterSeconds: 1, to: ['ou_bob'] },
      });
      await store.insert(approval, { type: 'created', source: 'api' });
      const now = new Date(Date.now() + 2_000);
      expect((await store.get(approval.id))?.escalateTo).toEqual(['ou_bob']);
      expect(
        (await store.listEscalationsDue(now, 1000)).map(a => a.id),
      ).toContain(approval.id);

      const taken = await Promise.all([
        store.takeEscalation(approval.id, now, 300),
        store.takeEscalation(approval.id, now, 300),
      ]);
      expect(taken.filter(Boolean)).toHaveLength(1);
      // Unsettled (its replica stopped): due again once the lease is over, not before.
      expect(
        await store.takeEscalation(
          approval.id,
          new Date(now.getTime() + 299_000),
          300,
        ),
      ).toBe(false);
      const afterLease = new Date(now.getTime() + 300_000);
      expect(await store.takeEscalation(approval.id, afterLease, 300)).toBe(
        true,
      );

      await store.settleEscalation(approval.id, ['ou_bob'], {
        type: 'escalated',
        source: 'scheduler',
        message: 'ou_bob added',
      });
      const settled = await store.get(approval.id);
      expect(settled).toMatchObject({
        escalatesAt: null,
        approvers: ['alice@example.com', 'ou_bob'],
      });
      expect(
        await store.takeEscalation(
          approval.id,
          new Date(now.getTime() + 3_600_000),
          300,
        ),
      ).toBe(false);
      expect((await store.timeline(approval.id)).map(e => e.type)).toEqual([
        'created',
        'escalated',
      ]);
    });

    it('filters and pages the list, newest first', async () => {
      const repository = `acme/list-${randomUUID()}`;
      for (let i = 0; i < 3; i++) {
        await store.insert(
          newApproval({
            context: { repository, verified: false, caller: 'svc' },
          }),
          { type: 'created', source: 'api' },
        );
        await new Promise(resolve => setTimeout(resolve, 5));
      }
      const page = await store.list({ repository, limit: 2, offset: 0 });
      expect(page.totalCount).toBe(3);
      expect(page.items).toHaveLength(2);
      expect(page.items[0].createdAt >= page.items[1].createdAt).toBe(true);
      const rest = await store.list({ repository, limit: 2, offset: 2 });
      expect(rest.items).toHaveLength(1);
      expect(
        await store.list({
          repository,
          status: 'approved',
          limit: 10,
          offset: 0,
        }),
      ).toEqual({ items: [], totalCount: 0 });
    });

    // A workflow lists its own repository's approvals only: "_" in its name must not match another repository.
    it('filters by repository exactly but for case, taking LIKE characters literally', async () => {
      const marker = randomUUID().slice(0, 8);
      const own = newApproval({
        context: {
          repository: `acme/my_app-${marker}`,
          verified: true,
          caller: 'github:acme',
        },
      });
      const other = newApproval({
        context: {
          repository: `acme/myXapp-${marker}`,
          verified: true,
          caller: 'github:acme',
        },
      });
      await store.insert(own, { type: 'created', source: 'api' });
      await store.insert(other, { type: 'created', source: 'api' });
      const ids = (repository: string) =>
        store
          .list({ repository, limit: 10, offset: 0 })
          .then(r => r.items.map(a => a.id));

      expect(await ids(`acme/my_app-${marker}`)).toEqual([own.id]);
      expect(await ids(`ACME/My_App-${marker}`)).toEqual([own.id]);
      expect(await ids(`acme/%-${marker}`)).toEqual([]);
    });

    it('finds approvals by words in the title, repository, id or decider (name or IM id), case-insensitively, with LIKE characters taken literally', async () => {
      const marker = randomUUID().slice(0, 8);
      const titled = newApproval({ title: `Rollout ${marker} 100%_done` });
      const decided = newApproval({
        context: {
          repository: `acme/${marker}-repo`,
          verified: true,
          caller: 'github:acme',
        },
      });
      await store.insert(titled, { type: 'created', source: 'api' });
      await store.insert(decided, { type: 'created', source: 'api' });
      await store.transition(
        decided.id,
        {
          status: 'approved',
          decidedBy: {
            id: `ou_${marker}_Dana`,
            name: `Dana-${marker} Example`,
          },
        },
        { type: 'approved', source: 'callback' },
      );
      const search = (q: string) =>
        store
          .list({ q, limit: 10, offset: 0 })
          .then(r => r.items.map(a => a.id).sort());

      expect(await search(marker.toUpperCase())).toEqual(
        [titled.id, decided.id].sort(),
      );
      expect(await search(`${marker} 100%_done`)).toEqual([titled.id]);
      expect(await search(`${marker} 100x_done`)).toEqual([]);
      expect(await search(`dana-${marker} example`)).toEqual([decided.id]);
      expect(await search(`OU_${marker}_dana`)).toEqual([decided.id]);
      expect(await search(titled.id.slice(0, 13).toUpperCase())).toEqual([
        titled.id,
      ]);
      expect(
        (
          await store.list({
            q: marker,
            status: 'approved',
            limit: 10,
            offset: 0,
          })
        ).totalCount,
      ).toBe(1);
    });
  },
);

describe.each(databases.eachSupportedId())(
  'approval facets on %p',
  databaseId => {
    it('offers each template and repository of the latest approvals once, sorted, filtered by the words typed', async () => {
      const knex = await databases.init(databaseId);
      const store = new DatabaseApprovalStore(
        await migratedClient({ getClient: async () => knex }),
      );
      expect(await store.facets()).toEqual({ templates: [], repositories: [] });
      const opened: Array<[string, string]> = [
        ['deploy', 'acme/web'],
        ['deploy', 'acme/api'],
        ['release', 'acme/api'],
        ['hotfix_1', 'other/a_b'],
      ];
      for (const [template, repository] of opened) {
        const approval = newApproval({ template });
        await store.insert(
          { ...approval, context: { ...approval.context, repository } },
          { type: 'created', source: 'api' },
        );
      }
      expect(await store.facets()).toEqual({
        templates: ['deploy', 'hotfix_1', 'release'],
        repositories: ['acme/api', 'acme/web', 'other/a_b'],
      });
      expect(await store.facets('ACME/W')).toEqual({
        templates: [],
        repositories: ['acme/web'],
      });
      // LIKE characters are taken literally: "_" is no wildcard.
      expect(await store.facets('_')).toEqual({
        templates: ['hotfix_1'],
        repositories: ['other/a_b'],
      });
      // A self-reported repository may hold what PostgreSQL's JSON operators refuse; one with a NUL,
      // which no filter may carry, is not offered.
      for (const repository of ['odd/\u0000x', 'odd/"quoted']) {
        const odd = newApproval({ template: 'odd' });
        await store.insert(
          { ...odd, context: { ...odd.context, repository } },
          { type: 'created', source: 'api' },
        );
      }
      expect(await store.facets('odd/')).toEqual({
        templates: [],
        repositories: ['odd/"quoted'],
      });
    });
  },
);
