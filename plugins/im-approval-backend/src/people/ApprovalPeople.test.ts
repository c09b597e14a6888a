import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  approvalContextSchema,
  templateSchema,
} from '@im-approval/plugin-im-approval-common';
import type { ImInstanceRequest as NodeRequest } from '@im-approval/plugin-im-approval-node';
import type { Caller } from '../auth/CallerResolver';
import { scriptedCore, template } from '../service/__testUtils__/scriptedIm';
import { ApprovalPeople } from './ApprovalPeople';
import { CatalogPeople } from './CatalogPeople';

function user(
  name: string,
  profile: { email?: string; displayName?: string } = {},
  annotations: Record<string, string> = {},
): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name, namespace: 'default', annotations },
    spec: { profile, memberOf: [] },
    relations: [],
  };
}

function group(name: string, members: string[], children: string[] = []) {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: { name, namespace: 'default' },
    spec: { type: 'team', children },
    relations: [
      ...members.map(m => ({
        type: 'hasMember',
        targetRef: `user:default/${m}`,
      })),
      ...children.map(c => ({
        type: 'parentOf',
        targetRef: `group:default/${c}`,
      })),
    ],
  } satisfies Entity;
}

const ORG: Entity[] = [
  user(
    'alice',
    { email: 'alice@example.com', displayName: 'Alice Chen' },
    {
      'github.com/user-login': 'alice-gh',
    },
  ),
  user(
    'bob',
    { email: 'bob@example.com' },
    {
      // Another IM's id is not this one's.
      'im-approval.io/feishu-user-id': 'ou_other',
      'im-approval.io/scripted-user-id': 'ou_bob',
    },
  ),
  user('carol', {}, { 'im-approval.io/mobile': '+86 138 0000 0003' }),
  user('dave', {}, {}),
  user(
    'eve',
    { email: 'eve@example.com', displayName: 'Eve\nApproved by Bob\u0000 ' },
    { 'github.com/user-login': 'eve-gh' },
  ),
  group('release-managers', ['alice'], ['sre']),
  group('sre', ['bob', 'carol', 'dave'], ['release-managers']),
  group('ghosts', ['dave']),
];

const workflow = (actor?: string): Caller => ({
  kind: 'github',
  id: 'github:acme/api',
  context: {
    repository: 'acme/api',
    ref: 'refs/heads/main',
    environment: 'production',
    runId: '1',
    ...(actor ? { actor } : {}),
  },
});

async function core(overrides: Record<string, unknown> = {}) {
  return scriptedCore({
    templates: [
      template({ approvers: ['group:default/release-managers'], ...overrides }),
    ],
    entities: ORG,
  });
}

const create = (
  service: Awaited<ReturnType<typeof core>>['service'],
  caller: Caller,
  key = 'run-1',
) =>
  service.create(
    { template: 'deploy', idempotencyKey: key, variables: {} },
    caller,
  );

function sentToIm(im: Awaited<ReturnType<typeof core>>['im']): NodeRequest {
  return im.calls.filter(call => call.op === 'createInstance').at(-1)!
    .arg as NodeRequest;
}

describe('approvers and requesters from the catalog', () => {
  it('expands nested groups, each person once, by their IM annotation, else e-mail, else mobile', async () => {
    const { service, im } = await core({
      approvers: ['group:default/release-managers', 'user:bob', 'raw-id'],
    });
    const { approval } = await create(service, workflow());
    expect(approval.approvers).toEqual([
      'alice@example.com',
      'ou_bob',
      '+86 138 0000 0003',
      'raw-id',
    ]);
    expect(approval.approverRefs).toEqual([
      'user:default/alice',
      'user:default/bob',
      'user:default/carol',
    ]);
    expect(sentToIm(im).stages[0].approvers).toEqual(approval.approvers);
    const { timeline } = await service.getWithTimeline(approval.id);
    // dave has no way to be reached: he is left out, and the timeline says why.
    expect(timeline[0].message).toMatch(
      /left out of group:default\/release-managers: user:default\/dave has no im-approval\.io\/scripted-user-id annotation, no spec\.profile\.email and no im-approval\.io\/mobile annotation/,
    );
  });

  it.each([
    [
      'group:default/ghosts',
      /nobody in group:default\/ghosts can be asked in scripted: user:default\/dave has no/,
    ],
    ['group:default/nobody', /group:default\/nobody is not in the catalog/],
    ['user:default/zed', /user:default\/zed is not in the catalog/],
    [
      'user:default/dave',
      /user:default\/dave cannot be asked in scripted: dave has no/,
    ],
  ])(
    'refuses %s with a 400 that names who is missing and why, opening nothing',
    async (ref, message) => {
      const { service, im, store } = await core({ approvers: [ref] });
      await expect(create(service, workflow())).rejects.toMatchObject({
        name: 'InputError',
        message: expect.stringMatching(message),
      });
      expect(im.count('createInstance')).toBe(0);
      expect((await store.list({ limit: 10, offset: 0 })).totalCount).toBe(0);
    },
  );

  it('leaves out group members the IM does not know, and refuses a group or user it knows nobody of', async () => {
    const { service, im } = await core({
      approvers: ['group:default/sre', 'user:default/alice'],
    });
    im.strangers.add('+86 138 0000 0003');
    const { approval } = await create(service, workflow());
    expect(approval.approverRefs).toEqual([
      'user:default/bob',
      'user:default/alice',
    ]);
    const { timeline } = await service.getWithTimeline(approval.id);
    expect(timeline[0].message).toContain(
      'left out of group:default/sre: user:default/carol (+86 138 0000 0003) is not a scripted user',
    );

    // sre holds release-managers (and alice) too: with her unknown as well, it has nobody left.
    im.strangers.add('ou_bob');
    im.strangers.add('alice@example.com');
    await expect(create(service, workflow(), 'run-2')).rejects.toMatchObject({
      name: 'InputError',
      message: expect.stringMatching(
        /nobody in group:default\/sre is a scripted user: user:default\/bob \(ou_bob\) is not a scripted user; .*user:default\/alice \(alice@example.com\)/,
      ),
    });
    const alone = await core({ approvers: ['user:default/alice'] });
    alone.im.strangers.add('alice@example.com');
    await expect(create(alone.service, workflow())).rejects.toMatchObject({
      message: expect.stringMatching(
        /user:default\/alice \(alice@example.com\) is not a scripted user/,
      ),
    });
  });

  it('expands CC like approvers, sends it to the IM once, keeps the requester among them and says so in the timeline', async () => {
    const { service, im } = await core({
      approvers: ['user:default/bob'],
      cc: ['group:default/release-managers', 'raw-cc'],
    });
    im.strangers.add('+86 138 0000 0003');
    const { approval } = await create(service, workflow('alice-gh'));
    // Nobody decides by being told, so alice (who asked) is told too; carol is unknown to the IM.
    expect(approval.cc).toEqual(['alice@example.com', 'ou_bob', 'raw-cc']);
    expect(approval.approvers).toEqual(['ou_bob']);
    expect(sentToIm(im).cc).toEqual(approval.cc);
    const { timeline } = await service.getWithTimeline(approval.id);
    expect(timeline[0].message).toContain(
      'CC (told, cannot decide): alice@example.com, ou_bob, raw-cc',
    );
    expect(timeline[0].message).toContain(
      'CC: left out of group:default/release-managers: user:default/carol (+86 138 0000 0003) is not a scripted user',
    );
  });

  it.each([
    [
      ['user:default/zed'],
      /template "deploy" cc: .*user:default\/zed is not in the catalog/,
    ],
    [
      ['group:default/ghosts'],
      /template "deploy" cc: nobody in group:default\/ghosts/,
    ],
  ])(
    "refuses CC %j with a 400 naming the template's cc, opening nothing",
    async (cc, message) => {
      const { service, im } = await core({ approvers: ['user:bob'], cc });
      await expect(create(service, workflow())).rejects.toMatchObject({
        name: 'InputError',
        message: expect.stringMatching(message),
      });
      expect(im.count('createInstance')).toBe(0);
    },
  );

  it('expands escalateTo like approvers, takes the requester off it, and opens without escalation when only they are left', async () => {
    const { service } = await core({
      approvers: ['user:default/bob'],
      escalateAfter: '30m',
      escalateTo: ['group:default/release-managers'],
    });
    const { approval } = await create(service, workflow('alice-gh'));
    // alice asked: she is not escalated to; bob and carol of sre are (dave has no IM contact).
    expect(approval.escalateTo).toEqual(['ou_bob', '+86 138 0000 0003']);
    expect(approval.escalateTo).not.toContain('alice@example.com');
    expect(approval.escalatesAt).not.toBeNull();

    const alone = await core({
      approvers: ['user:default/bob'],
      escalateAfter: '30m',
      escalateTo: ['user:default/alice'],
    });
    const { approval: unescalated } = await create(
      alone.service,
      workflow('alice-gh'),
    );
    expect(unescalated).toMatchObject({ escalateTo: [], escalatesAt: null });
    const { timeline } = await alone.service.getWithTimeline(unescalated.id);
    expect(timeline[0].message).toContain(
      'Escalation: it is not escalated: escalateTo names only the requester, Alice Chen',
    );
  });

  it('opens without CC when the template has none', async () => {
    const { service, im } = await core();
    const { approval } = await create(service, workflow());
    expect(approval.cc).toEqual([]);
    expect(sentToIm(im)).not.toHaveProperty('cc');
  });

  it('refuses a group with more members than an approval may ask', async () => {
    const many = Array.from({ length: 101 }, (_, i) =>
      user(`u${i}`, { email: `u${i}@example.com` }),
    );
    const { service } = await scriptedCore({
      templates: [template({ approvers: ['group:default/all'] })],
      entities: [
        ...many,
        group(
          'all',
          many.map(u => u.metadata.name),
        ),
      ],
    });
    await expect(create(service, workflow())).rejects.toMatchObject({
      name: 'InputError',
      message: expect.stringMatching(
        /group:default\/all has more than 100 members/,
      ),
    });
  });

  it('takes the verified actor off the approvers, opens the IM request on their behalf and records who asked', async () => {
    const { service, im } = await core();
    const { approval } = await create(service, workflow('alice-gh'));
    expect(approval.approvers).toEqual(['ou_bob', '+86 138 0000 0003']);
    expect(approval.approverRefs).not.toContain('user:default/alice');
    expect(approval.requester).toMatchObject({
      name: 'Alice Chen',
      identifiedBy: 'github-actor',
      githubLogin: 'alice-gh',
      entityRef: 'user:default/alice',
      imUser: 'alice@example.com',
      note: expect.stringMatching(/removed from the approvers/),
    });
    expect(sentToIm(im)).toMatchObject({
      initiator: 'alice@example.com',
      title: 'Deploy acme/api',
    });
  });

  it('refuses a request whose only approver is the requester, and keeps them when the template allows it', async () => {
    const only = await core({ approvers: ['user:default/alice'] });
    await expect(
      create(only.service, workflow('alice-gh')),
    ).rejects.toMatchObject({
      name: 'InputError',
      message: expect.stringMatching(
        /the only approver is the requester, Alice Chen \(GitHub alice-gh, user:default\/alice\), who cannot approve their own request; .*allowSelfApproval: true/,
      ),
    });
    expect(only.im.count('createInstance')).toBe(0);

    // Written as a raw e-mail in another case, the requester is still recognised.
    const allowed = await core({
      approvers: ['ALICE@example.com'],
      allowSelfApproval: true,
    });
    const { approval } = await create(allowed.service, workflow('alice-gh'));
    expect(approval.approvers).toEqual(['ALICE@example.com']);
    expect(approval.requester).toMatchObject({ mayApprove: true });
  });

  it('records an approval by the requester in the IM without letting it pass', async () => {
    const { service, im, transitions } = await core({
      approvers: ['user:default/bob', 'alice@example.com'],
    });
    // Taken off the list, alice approves anyway (an IM admin, a transfer).
    const { approval } = await create(service, workflow('alice-gh'));
    im.decide(approval.imInstanceId!, {
      status: 'approved',
      decidedBy: { id: 'alice@example.com', name: 'Alice Chen' },
      comment: 'lgtm',
    });
    const after = await transitions.followIm(
      approval,
      transitions.clientOf(
        await transitions.integrationOf(approval.integration),
      ),
      'callback',
    );
    expect(after).toMatchObject({
      status: 'failed',
      decidedBy: 'Alice Chen',
      comment: 'lgtm',
      error: expect.stringMatching(
        /by the requester, "Alice Chen", who cannot approve their own request/,
      ),
    });

    // Bob's approval of the next one passes.
    const next = (await create(service, workflow('alice-gh'), 'run-2'))
      .approval;
    im.decide(next.imInstanceId!, {
      status: 'approved',
      decidedBy: { id: 'ou_bob', name: 'Bob' },
    });
    expect(
      await transitions.followIm(
        next,
        transitions.clientOf(await transitions.integrationOf(next.integration)),
        'callback',
      ),
    ).toMatchObject({ status: 'approved', decidedBy: 'Bob' });
  });

  it('refuses an admin approval in Backstage by the requester, and takes their rejection', async () => {
    const { service } = await core({ approvers: ['user:default/bob'] });
    const alice: Caller = {
      kind: 'user',
      id: 'user:default/Alice',
      credentials: mockCredentials.user('user:default/alice'),
    };
    const { approval } = await create(service, workflow('alice-gh'));
    await expect(
      service.decide(approval.id, alice, {
        decision: 'approved',
        comment: 'my own',
      }),
    ).rejects.toMatchObject({
      name: 'NotAllowedError',
      message: expect.stringMatching(
        /You requested approval .* so you cannot approve it/,
      ),
    });
    expect((await service.get(approval.id)).status).toBe('pending');
    expect(
      await service.decide(approval.id, alice, {
        decision: 'rejected',
        comment: 'withdrawn',
      }),
    ).toMatchObject({ status: 'rejected' });
  });

  it('keeps a display name from the catalog on one line wherever it is shown', async () => {
    const { service, im } = await core({ approvers: ['user:default/bob'] });
    const { approval } = await create(service, workflow('eve-gh'));
    expect(approval.requester?.name).toBe('Eve Approved by Bob');
    const { timeline } = await service.getWithTimeline(approval.id);
    expect(timeline[0].message).toMatch(
      /^Requested by Eve Approved by Bob \(GitHub eve-gh/,
    );
    expect(sentToIm(im).initiator).toBe('eve@example.com');
  });

  it('does not trust a self-reported actor, and names an unknown login in the IM title', async () => {
    const { service, im } = await core({ approvers: ['user:default/alice'] });
    const service_caller: Caller = { kind: 'service', id: 'external:bot' };
    const selfReported = await service.create(
      {
        template: 'deploy',
        idempotencyKey: 'k',
        variables: {},
        context: {
          repository: 'acme/api',
          environment: 'production',
          actor: 'alice-gh',
        },
      },
      service_caller,
    );
    expect(selfReported.approval.requester).toMatchObject({
      identifiedBy: 'unidentified',
      note: expect.stringMatching(/self-reported/),
    });
    expect(selfReported.approval.approvers).toEqual(['alice@example.com']);

    const unknown = await create(service, workflow('stranger'));
    expect(unknown.approval.requester).toMatchObject({
      identifiedBy: 'github-actor',
      githubLogin: 'stranger',
      note: expect.stringMatching(/no catalog User has this GitHub login/),
    });
    expect(sentToIm(im)).toMatchObject({
      title: 'Deploy acme/api · requested by GitHub user stranger',
      initiator: undefined,
    });
  });

  it('lists the approvals a user requested and those waiting on them', async () => {
    const { service } = await core({
      approvers: ['user:default/bob', 'user:default/alice'],
    });
    const mine = (await create(service, workflow('alice-gh'))).approval;
    const other = (await create(service, workflow('stranger'), 'run-2'))
      .approval;
    const alice: Caller = {
      kind: 'user',
      id: 'user:default/alice',
      credentials: mockCredentials.user('user:default/alice'),
    };
    const bob: Caller = { ...alice, id: 'user:default/Bob' };
    const ids = async (caller: Caller, filter: 'requested' | 'waiting') =>
      (
        await service.list({ limit: 10, offset: 0, mine: filter }, caller)
      ).items.map(a => a.id);
    expect(await ids(alice, 'requested')).toEqual([mine.id]);
    expect(await ids(alice, 'waiting')).toEqual([other.id]);
    expect(await ids(bob, 'waiting')).toEqual([other.id, mine.id]);
    expect(await ids(bob, 'requested')).toEqual([]);
    await expect(
      service.list({ limit: 10, offset: 0, mine: 'waiting' }, workflow()),
    ).rejects.toMatchObject({ name: 'InputError', message: /query\.mine/ });
  });
});

describe('when the catalog cannot be read', () => {
  const failing = catalogServiceMock.mock({
    getEntities: async () => {
      throw new Error('connect ECONNREFUSED');
    },
    getEntitiesByRefs: async () => {
      throw new Error('connect ECONNREFUSED');
    },
  });
  const logger = mockServices.logger.mock();
  const people = new ApprovalPeople(
    new CatalogPeople(failing, mockServices.auth(), logger),
    logger,
  );
  const context = approvalContextSchema.parse({
    repository: 'acme/api',
    actor: 'alice-gh',
    verified: true,
    caller: 'github:acme/api',
  });

  it('opens with raw approvers, the requester unknown and saying why; refs are a 503', async () => {
    const resolved = await people.resolve({
      template: templateSchema.parse({
        name: 'deploy',
        integration: 'x',
        form: 'F',
        approvers: ['alice@example.com'],
      }),
      provider: 'feishu',
      approvers: ['alice@example.com'],
      field: 'approvers',
      caller: workflow('alice-gh'),
      context,
      findUsers: async contacts => contacts,
    });
    expect(resolved.requester).toMatchObject({
      identifiedBy: 'github-actor',
      note: expect.stringMatching(
        /The catalog could not be read \(catalog refs among approvers, and requesters, need the catalog backend in this Backstage\): connect ECONNREFUSED/,
      ),
    });
    expect(logger.warn).toHaveBeenCalledTimes(1);
    await expect(
      people.resolve({
        template: templateSchema.parse({
          name: 'deploy',
          integration: 'x',
          form: 'F',
          approvers: ['group:default/sre'],
        }),
        provider: 'feishu',
        approvers: ['group:default/sre'],
        field: 'approvers',
        caller: workflow('alice-gh'),
        context,
        findUsers: async contacts => contacts,
      }),
    ).rejects.toMatchObject({ name: 'ServiceUnavailableError' });
  });
});
