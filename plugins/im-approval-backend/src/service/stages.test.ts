import type { ParsedCreateApprovalRequest } from '@im-approval/plugin-im-approval-common';
import type {
  ImInstanceRequest,
  ImStageProgress,
} from '@im-approval/plugin-im-approval-node';
import type { Caller } from '../auth/CallerResolver';
import { scriptedCore, template } from './__testUtils__/scriptedIm';

const workflow: Caller = {
  kind: 'github',
  id: 'github:acme/api',
  context: {
    repository: 'acme/api',
    ref: 'refs/heads/main',
    environment: 'production',
    runId: '1',
    actor: 'octocat',
  },
};

const request: ParsedCreateApprovalRequest = {
  template: 'staged',
  idempotencyKey: 'run-1',
  variables: {},
};

const staged = template({
  name: 'staged',
  approvers: undefined,
  stages: [
    { name: 'Team lead', approvers: ['lead-a', 'lead-b'], rule: 'any' },
    { name: 'SRE', approvers: ['sre-a', 'sre-b'], rule: 'all' },
  ],
});

const person = (id: string) => ({ id, name: id.toUpperCase() });
const progress = (
  status: ImStageProgress['status'],
  approvedBy: string[] = [],
  waitingOn: string[] = [],
): ImStageProgress => ({
  status,
  approvedBy: approvedBy.map(person),
  waitingOn,
});

describe('an approval in stages', () => {
  it('asks the IM for one node per stage, and keeps each stage with its people', async () => {
    const { service, im } = await scriptedCore({ templates: [staged] });
    const { approval } = await service.create(request, workflow);
    const sent = im.calls.find(call => call.op === 'createInstance')!
      .arg as ImInstanceRequest;
    expect(sent.stages).toEqual([
      { name: 'Team lead', approvers: ['lead-a', 'lead-b'], rule: 'any' },
      { name: 'SRE', approvers: ['sre-a', 'sre-b'], rule: 'all' },
    ]);
    expect(approval.approvers).toEqual(['lead-a', 'lead-b', 'sre-a', 'sre-b']);
    expect(approval.stages.map(stage => [stage.name, stage.status])).toEqual([
      ['Team lead', 'pending'],
      ['SRE', 'waiting'],
    ]);
  });

  it('records each stage as the IM moves it on, once, and the decision with the last', async () => {
    const { service, im, transitions, store } = await scriptedCore({
      templates: [staged],
    });
    const heard: string[] = [];
    transitions.onProgress(a =>
      heard.push(a.stages.map(stage => stage.status).join(',')),
    );
    const { approval } = await service.create(request, workflow);
    const follow = async () =>
      transitions.followIm((await store.get(approval.id))!, im, 'callback');

    im.decide('inst-1', {
      status: 'pending',
      stages: [
        progress('approved', ['lead-b']),
        progress('pending', [], ['sre-a', 'sre-b']),
      ],
    });
    const waiting = service.wait(approval.id, 30);
    await new Promise(resolve => setTimeout(resolve, 20));
    const moved = await follow();
    // A waiter hears the stage move on: the Action says so at once.
    expect((await waiting).stages[1]).toMatchObject({
      status: 'pending',
      waitingOn: ['sre-a', 'sre-b'],
    });
    expect(moved.stages[0]).toMatchObject({
      name: 'Team lead',
      status: 'approved',
      approvedBy: ['LEAD-B'],
    });
    // Read again with nothing new: nothing recorded twice.
    await follow();
    expect(heard).toEqual(['approved,pending']);

    im.decide('inst-1', {
      status: 'approved',
      decidedBy: person('sre-b'),
      stages: [
        progress('approved', ['lead-b']),
        progress('approved', ['sre-a', 'sre-b']),
      ],
    });
    const decided = await follow();
    expect(decided).toMatchObject({ status: 'approved', decidedBy: 'SRE-B' });
    expect(decided.stages[1]).toMatchObject({
      status: 'approved',
      approvedBy: ['SRE-A', 'SRE-B'],
    });
    const timeline = await store.timeline(approval.id);
    expect(
      timeline
        .filter(event => ['stage_approved', 'approved'].includes(event.type))
        .map(event => [event.type, event.message]),
    ).toEqual([
      ['stage_approved', 'Stage 1 of 2 ("Team lead") approved by "LEAD-B"'],
      // The last stage says who approved in it, all of them, before the approval is decided.
      ['stage_approved', 'Stage 2 of 2 ("SRE") approved by "SRE-A", "SRE-B"'],
      ['approved', null],
    ]);
  });

  it('takes later stages the IM does not tell yet as waiting, ignores more stages than asked, and keeps single-stage approvals without any', async () => {
    const { service, im, transitions, store } = await scriptedCore({
      templates: [staged, template()],
    });
    const { approval } = await service.create(request, workflow);
    im.decide('inst-1', {
      status: 'pending',
      stages: [progress('pending', ['lead-a'], ['lead-b'])],
    });
    await transitions.followIm(approval, im, 'reconciler');
    expect(
      (await store.get(approval.id))!.stages.map(s => [
        s.status,
        s.approvedBy,
        s.waitingOn,
      ]),
    ).toEqual([
      ['pending', ['LEAD-A'], ['lead-b']],
      ['waiting', [], []],
    ]);
    im.decide('inst-1', {
      status: 'pending',
      stages: [progress('approved'), progress('approved'), progress('pending')],
    });
    await transitions.followIm(
      (await store.get(approval.id))!,
      im,
      'reconciler',
    );
    expect((await store.get(approval.id))!.stages[0].status).toBe('pending');

    const single = await service.create(
      { ...request, template: 'deploy', idempotencyKey: 'run-2' },
      workflow,
    );
    expect(single.approval.stages).toEqual([]);
    im.decide('inst-2', {
      status: 'pending',
      stages: [progress('approved', ['alice'])],
    });
    expect(
      (await transitions.followIm(single.approval, im, 'reconciler')).stages,
    ).toEqual([]);
  });
});
