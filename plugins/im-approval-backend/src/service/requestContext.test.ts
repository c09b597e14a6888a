import type { Approval } from '@im-approval/plugin-im-approval-common';
import {
  approvalWith as approval,
  EARLIER,
  SHA,
} from './__testUtils__/approvalFixture';
import { requestContext } from './requestContext';

describe('requestContext', () => {
  it('tells who asked, where from, what runs and what changes since the last approved request, with links', () => {
    expect(requestContext(approval(), approval({ sha: EARLIER }))).toEqual([
      {
        kind: 'requester',
        label: 'Requested by',
        value: 'Alice Chen (GitHub alice)',
      },
      {
        kind: 'repository',
        label: 'Repository',
        value: 'acme/shop',
        url: 'https://github.com/acme/shop',
      },
      { kind: 'ref', label: 'Ref', value: 'main' },
      {
        kind: 'commit',
        label: 'Commit',
        value: '3f2a9c1',
        url: `https://github.com/acme/shop/commit/${SHA}`,
      },
      { kind: 'environment', label: 'Environment', value: 'production' },
      {
        kind: 'run',
        label: 'Run',
        value: 'release #42',
        url: 'https://github.com/acme/shop/actions/runs/42',
      },
      {
        kind: 'changes',
        label: 'Changes',
        value:
          'a1b2c3d...3f2a9c1 since the last approved request of deploy to production',
        url: `https://github.com/acme/shop/compare/${EARLIER}...${SHA}`,
      },
    ]);
  });

  it('says how many commits the range holds where GitHub counted them', () => {
    const changes = (commits: number) =>
      requestContext(approval(), approval({ sha: EARLIER }), commits).find(
        line => line.kind === 'changes',
      )?.value;
    expect(changes(12)).toBe(
      'a1b2c3d...3f2a9c1 (12 commits) since the last approved request of deploy to production',
    );
    expect(changes(1)).toContain('(1 commit)');
  });

  it('says when nothing was approved before, when the commit is the same, and when there is nothing to compare', () => {
    const changes = (previous?: Approval, current = approval()) =>
      requestContext(current, previous).find(line => line.kind === 'changes');
    expect(changes()).toEqual({
      kind: 'changes',
      label: 'Changes',
      value: 'the first approved request of deploy to production',
    });
    expect(changes(approval())?.value).toBe(
      'nothing: the same commit as the last approved request of deploy to production',
    );
    expect(changes(approval({ sha: undefined }))).toEqual({
      kind: 'changes',
      label: 'Changes',
      value:
        'unknown: the last approved request of deploy to production names no commit to compare with',
    });
    expect(
      changes(undefined, approval({ environment: undefined }))?.value,
    ).toBe('the first approved request of deploy');
  });

  it('links nothing made of text that is not a commit or an http(s) URL, and keeps such text as plain values', () => {
    const lines = requestContext(
      approval({
        sha: '$(reboot)',
        serverUrl: undefined,
        runUrl: 'data:text/html,<b>run</b>',
        ref: 'refs/tags/v1.2.0',
      }),
      approval({ sha: EARLIER }),
    );
    expect(lines.filter(line => line.url)).toEqual([]);
    expect(lines.find(line => line.kind === 'commit')?.value).toBe('$(reboot)');
    expect(lines.find(line => line.kind === 'ref')?.value).toBe(
      'refs/tags/v1.2.0',
    );
    expect(lines.some(line => line.kind === 'run')).toBe(false);
  });

  it('tells a template test no changes: it deploys nothing', () => {
    const kinds = requestContext(approval({ test: true }), undefined).map(
      line => line.kind,
    );
    expect(kinds).not.toContain('changes');
    expect(kinds).toContain('repository');
  });
});
