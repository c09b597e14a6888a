import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  APPROVAL_SIGNAL_CHANNEL,
  type ApprovalStage,
  type ApprovalStageRequest,
} from '@im-approval/plugin-im-approval-common';
import { act } from 'react';
import {
  approval,
  fakeApi,
  fakeSignals,
  renderPage,
} from '../../__testUtils__/renderPage';

const path = `/approvals/${approval.id}`;
/** Backstage's Link tells screen readers that a link out opens a new window. */
const external = (name: string) => `${name}, Opens in a new window`;

describe('an approval’s details', () => {
  it('says when its approvers are next reminded and whom it escalates to, and nothing of either when it has none', async () => {
    const api = fakeApi({
      getApproval: jest.fn(async () => ({
        ...approval,
        nextReminderAt: '2026-11-21T10:00:00.000Z',
        escalateTo: ['ou_bob'],
        escalatesAt: '2026-11-21T12:00:00.000Z',
      })),
    });
    await renderPage(api, path);
    expect(
      await screen.findByRole('cell', { name: 'Next reminder' }),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('row', { name: /^Escalation to ou_bob at / }),
    ).toBeInTheDocument();
  });

  it('shows no reminder or escalation rows for an approval without them', async () => {
    await renderPage(
      fakeApi({ getApproval: jest.fn(async () => approval) }),
      path,
    );
    expect(
      await screen.findByRole('cell', { name: 'Approvers' }),
    ).toBeInTheDocument();
    expect(screen.queryByRole('cell', { name: 'Next reminder' })).toBeNull();
    expect(screen.queryByRole('cell', { name: 'Escalation' })).toBeNull();
  });

  it('shows the verified run with human labels, and links its repository, ref, commit and run to its GitHub server', async () => {
    const sha = '0123456789abcdef0123456789abcdef01234567';
    const api = fakeApi({
      getApproval: jest.fn(async () => ({
        ...approval,
        cc: ['carol@example.com', 'dave@example.com'],
        context: {
          ...approval.context,
          ref: 'refs/heads/release/1.2#hotfix',
          sha,
          runId: '1001',
          runAttempt: '1',
          serverUrl: 'https://ghe.example.com/',
        },
      })),
    });
    await renderPage(api, path);

    expect(
      await screen.findByRole('heading', { name: 'Deploy api from acme/api' }),
    ).toBeInTheDocument();
    expect(api.getApproval).toHaveBeenCalledWith(approval.id);
    expect(screen.getByText('Verified: GitHub OIDC token')).toBeInTheDocument();
    for (const label of [
      'Repository',
      'Ref',
      'Commit',
      'Run',
      'GitHub server',
      'Requested by',
      'IM app',
      'Time to decide',
    ])
      expect(screen.getByRole('cell', { name: label })).toBeInTheDocument();
    expect(
      screen.getByRole('row', {
        name: /^CC carol@example.com, dave@example.com$/,
      }),
    ).toBeInTheDocument();
    // Start-cased keys are gone.
    for (const raw of ['Sha', 'Server Url', 'Run Id', 'Run Attempt'])
      expect(screen.queryByText(raw)).not.toBeInTheDocument();

    expect(
      screen.getByRole('link', { name: external('acme/api') }),
    ).toHaveAttribute('href', 'https://ghe.example.com/acme/api');
    // Each segment of a branch is encoded on its own: its slashes stay a path, a # stays in the name.
    expect(
      screen.getByRole('link', {
        name: external('refs/heads/release/1.2#hotfix'),
      }),
    ).toHaveAttribute(
      'href',
      'https://ghe.example.com/acme/api/tree/release/1.2%23hotfix',
    );
    const commit = screen.getByRole('link', { name: external('0123456') });
    expect(commit).toHaveAttribute(
      'href',
      `https://ghe.example.com/acme/api/commit/${sha}`,
    );
    expect(commit).toHaveAttribute('title', sha);
    expect(
      screen.getByRole('link', { name: external('1001, attempt 1') }),
    ).toHaveAttribute(
      'href',
      'https://ghe.example.com/acme/api/actions/runs/1001/attempts/1',
    );
    expect(
      screen.getByRole('link', { name: external('https://ghe.example.com') }),
    ).toHaveAttribute('href', 'https://ghe.example.com');
    expect(screen.getByText('INST-1').closest('a')).toHaveAttribute(
      'href',
      approval.imUrl,
    );
    expect(
      screen.getByText(
        'Octo Cat (GitHub octocat, user:default/octocat); identified by the verified GitHub actor',
      ),
    ).toBeInTheDocument();
    expect(screen.getByText('feishu-main (Feishu / Lark)')).toBeInTheDocument();
  });

  it('links a pull request’s ref to the pull request, and leaves refs it cannot place unlinked', async () => {
    const api = fakeApi({
      getApproval: jest.fn(async () => ({
        ...approval,
        context: {
          ...approval.context,
          ref: 'refs/pull/42/merge',
          serverUrl: 'https://github.com',
        },
      })),
    });
    const { unmount } = await renderPage(api, path);
    expect(
      await screen.findByRole('link', { name: external('refs/pull/42/merge') }),
    ).toHaveAttribute('href', 'https://github.com/acme/api/pull/42');
    unmount();

    // A ref a caller reported with `..` would leave the repository once a browser resolves it.
    api.getApproval.mockResolvedValue({
      ...approval,
      context: {
        ...approval.context,
        verified: false,
        ref: 'refs/heads/../../../evil',
        serverUrl: 'https://github.com',
      },
    });
    await renderPage(api, path);
    expect(
      await screen.findByText('refs/heads/../../../evil'),
    ).not.toHaveAttribute('href');
    expect(
      screen.getByText('refs/heads/../../../evil').closest('a'),
    ).toBeNull();
  });

  it('says how long the decision took, or how long it has waited', async () => {
    const decided = {
      ...approval,
      status: 'approved' as const,
      decidedBy: 'Bob Li',
      decidedById: 'ou_bob',
      decidedAt: '2025-01-02T10:02:30.000Z',
    };
    const api = fakeApi({ getApproval: jest.fn(async () => decided) });
    const { unmount } = await renderPage(api, path);
    expect(await screen.findByText('2m30s')).toBeInTheDocument();
    unmount();

    // The clock stands still: a slow render must not make it 6m.
    jest.useFakeTimers({ now: Date.parse(approval.createdAt) + 5 * 60_000 });
    try {
      api.getApproval.mockResolvedValue(approval);
      await renderPage(api, path);
      await screen.findByRole('heading', { name: 'Deploy api from acme/api' });
      expect(screen.getByText('waiting for 5m')).toBeInTheDocument();
    } finally {
      jest.useRealTimers();
    }
  });

  it('draws the timeline vertically, each event with its source as a labelled icon, its time, actor and message', async () => {
    const api = fakeApi({
      getApproval: jest.fn(async () => ({
        ...approval,
        status: 'approved' as const,
        timeline: [
          ...approval.timeline,
          {
            type: 'approved' as const,
            at: '2025-01-02T10:02:00.000Z',
            source: 'callback' as const,
            actor: 'Bob Li',
            message: '<b>ship it</b>',
          },
          {
            type: 'im_instance_revoked' as const,
            at: '2025-01-02T10:02:01.000Z',
            source: 'admin' as const,
            actor: null,
            message: null,
          },
        ],
      })),
    });
    await renderPage(api, path);
    const timeline = await screen.findByRole('list', { name: 'Timeline' });
    const items = within(timeline).getAllByRole('listitem');
    expect(items).toHaveLength(4);
    expect(within(items[0]).getByText('Requested')).toBeInTheDocument();
    expect(
      within(items[0]).getByRole('img', { name: 'API call' }),
    ).toBeInTheDocument();
    expect(
      within(items[0]).getByText(/by github:acme\/api/),
    ).toBeInTheDocument();
    expect(
      within(items[1]).getByText('IM instance created'),
    ).toBeInTheDocument();
    expect(within(items[1]).getByText('instance opened')).toBeInTheDocument();
    expect(
      within(items[2]).getByRole('img', { name: 'IM callback' }),
    ).toBeInTheDocument();
    expect(within(items[2]).getByText(/by Bob Li/)).toBeInTheDocument();
    // A comment from the IM is text, never markup.
    expect(within(items[2]).getByText('<b>ship it</b>')).toBeInTheDocument();
    expect(items[2].querySelector('time')).toHaveAttribute(
      'datetime',
      '2025-01-02T10:02:00.000Z',
    );
    expect(items[2].querySelector('time')).toHaveTextContent(
      new Date('2025-01-02T10:02:00.000Z').toLocaleString(),
    );
    expect(
      within(items[3]).getByRole('img', { name: 'Backstage administrator' }),
    ).toBeInTheDocument();
    expect(
      within(items[3]).getByText('IM instance withdrawn'),
    ).toBeInTheDocument();
    // No table squeezes it any more.
    expect(
      screen.queryByRole('columnheader', { name: 'Message' }),
    ).not.toBeInTheDocument();
  });

  it('shows each stage in order beside the timeline: its name or number, rule, status and whom it waits on, with the stage_approved event', async () => {
    const stages = [
      {
        name: 'Team lead',
        rule: 'any' as const,
        approvers: ['ou_lead', 'ou_deputy'],
        status: 'approved' as const,
        approvedBy: ['Lee Team'],
        waitingOn: [],
        atLeast: null,
        rejectedBy: [],
        requests: [],
      },
      {
        name: null,
        rule: 'all' as const,
        approvers: ['ou_sre1', 'ou_sre2'],
        status: 'pending' as const,
        approvedBy: ['Sam Sre'],
        waitingOn: ['ou_sre2'],
        atLeast: null,
        rejectedBy: [],
        requests: [],
      },
      {
        name: 'Security',
        rule: 'all' as const,
        approvers: ['ou_sec1', 'ou_sec2', 'ou_sec3'],
        status: 'waiting' as const,
        approvedBy: [],
        waitingOn: [],
        atLeast: 2,
        rejectedBy: [],
        requests: [],
      },
    ];
    const api = fakeApi({
      getApproval: jest.fn(async () => ({
        ...approval,
        stages,
        timeline: [
          ...approval.timeline,
          {
            type: 'stage_approved' as const,
            at: '2025-01-02T10:05:00.000Z',
            source: 'callback' as const,
            actor: 'Lee Team',
            message: 'Stage 1 (Team lead) approved',
          },
        ],
      })),
    });
    await renderPage(api, path);
    const list = await screen.findByRole('list', { name: 'Stages' });
    const items = within(list).getAllByRole('listitem');
    expect(items.map(item => item.textContent)).toEqual([
      'Stage 1: Team leadapprovedApproved by Lee TeamAsked ou_lead, ou_deputy: any one of them approves',
      'Stage 2pendingPending on ou_sre2; approved so far by Sam SreAsked ou_sre1, ou_sre2: all of them approve',
      'Stage 3: SecuritywaitingWaiting for stage 2 to be approvedAsked ou_sec1, ou_sec2, ou_sec3: at least 2 of them approve',
    ]);
    // The stage asked now is the current step for screen readers.
    expect(items.map(item => item.getAttribute('aria-current'))).toEqual([
      null,
      'step',
      null,
    ]);
    const timeline = screen.getByRole('list', { name: 'Timeline' });
    const stageApproved = within(timeline).getAllByRole('listitem')[2];
    expect(stageApproved).toHaveTextContent('Stage approved');
    expect(stageApproved).toHaveTextContent('Stage 1 (Team lead) approved');
    expect(
      within(stageApproved).getByRole('img', { name: 'IM callback' }),
    ).toBeInTheDocument();
  });

  it('says who rejected a stage, and that the stages after it were never reached', async () => {
    const api = fakeApi({
      getApproval: jest.fn(async () => ({
        ...approval,
        status: 'rejected' as const,
        decidedBy: 'Lee Team',
        decidedById: 'ou_lead',
        decidedAt: '2025-01-02T10:05:00.000Z',
        stages: [
          {
            name: 'Team lead',
            rule: 'any' as const,
            approvers: ['ou_lead'],
            status: 'rejected' as const,
            approvedBy: [],
            waitingOn: [],
            atLeast: null,
            rejectedBy: [],
            requests: [],
          },
          {
            name: 'SRE',
            rule: 'all' as const,
            approvers: ['ou_sre'],
            status: 'waiting' as const,
            approvedBy: [],
            waitingOn: [],
            atLeast: null,
            rejectedBy: [],
            requests: [],
          },
        ],
      })),
    });
    await renderPage(api, path);
    const list = await screen.findByRole('list', { name: 'Stages' });
    const [first, second] = within(list).getAllByRole('listitem');
    expect(first).toHaveTextContent('Rejected by Lee Team (ou_lead)');
    expect(second).toHaveTextContent('Never reached: the approval is rejected');
  });

  const request = (
    approver: string,
    fields: Partial<ApprovalStageRequest>,
  ): ApprovalStageRequest => ({
    approver,
    instanceId: `INST-${approver}`,
    url: null,
    status: 'pending',
    decidedBy: null,
    comment: null,
    decidedAt: null,
    ...fields,
  });
  const countedStage = (fields: Partial<ApprovalStage>): ApprovalStage => ({
    name: null,
    rule: 'all',
    approvers: [],
    status: 'pending',
    approvedBy: [],
    waitingOn: [],
    atLeast: 2,
    rejectedBy: [],
    requests: [],
    ...fields,
  });

  it('lists each approver of a counted stage: their request in words, their comment, and a link to it in the IM when it is http(s)', async () => {
    const api = fakeApi({
      getApproval: jest.fn(async () => ({
        ...approval,
        stages: [
          countedStage({
            name: 'Team leads',
            approvers: ['ou_lead1', 'ou_lead2', 'ou_lead3'],
            status: 'approved',
            approvedBy: ['Lee One', 'Lee Two'],
            requests: [
              request('ou_lead1', { status: 'approved', decidedBy: 'Lee One' }),
              request('ou_lead2', { status: 'approved', decidedBy: 'Lee Two' }),
              request('ou_lead3', {
                status: 'closed',
                url: 'https://feishu.example/instances/INST-ou_lead3',
              }),
            ],
          }),
          countedStage({
            name: 'SRE',
            approvers: ['ou_sre1', 'ou_sre2', 'ou_sre3'],
            approvedBy: ['Sam Sre'],
            waitingOn: ['ou_sre3'],
            rejectedBy: ['Ray Sre'],
            requests: [
              request('ou_sre1', {
                status: 'approved',
                decidedBy: 'Sam Sre',
                comment: 'Looks good',
                url: 'https://feishu.example/instances/INST-ou_sre1',
              }),
              request('ou_sre2', {
                status: 'rejected',
                decidedBy: 'Ray Sre',
                comment: 'Not on a Friday',
                // Text from the IM: an app's own scheme (or worse) is never a link.
                url: 'feishu://instances/INST-ou_sre2',
              }),
              request('ou_sre3', {
                url: 'https://feishu.example/instances/INST-ou_sre3',
              }),
            ],
          }),
        ],
      })),
    });
    await renderPage(api, path);
    const leads = await screen.findByRole('list', {
      name: 'Requests in Stage 1: Team leads',
    });
    expect(
      within(leads)
        .getAllByRole('listitem')
        .map(item => item.textContent),
    ).toEqual([
      'ou_lead1: approved by Lee One',
      'ou_lead2: approved by Lee Two',
      'ou_lead3: withdrawn: the stage was decided without them · IM request, Opens in a new window',
    ]);
    const sre = screen.getByRole('list', { name: 'Requests in Stage 2: SRE' });
    expect(
      within(sre)
        .getAllByRole('listitem')
        .map(item => item.textContent),
    ).toEqual([
      'ou_sre1: approved by Sam Sre — “Looks good” · IM request, Opens in a new window',
      'ou_sre2: rejected by Ray Sre — “Not on a Friday”',
      'ou_sre3: waiting for them · IM request, Opens in a new window',
    ]);
    // Each link names whose request it opens; the feishu: url got none.
    expect(
      within(sre).getByRole('link', {
        name: external('IM request of ou_sre1'),
      }),
    ).toHaveAttribute('href', 'https://feishu.example/instances/INST-ou_sre1');
    expect(
      within(sre).getByRole('link', {
        name: external('IM request of ou_sre3'),
      }),
    ).toHaveAttribute('href', 'https://feishu.example/instances/INST-ou_sre3');
    expect(within(sre).getAllByRole('link')).toHaveLength(2);
    expect(
      within(leads).getByRole('link', {
        name: external('IM request of ou_lead3'),
      }),
    ).toHaveAttribute('href', 'https://feishu.example/instances/INST-ou_lead3');
  });

  it('says a counted stage’s request was withdrawn because the approval ended, and lists no requests for a stage that does not count', async () => {
    const api = fakeApi({
      getApproval: jest.fn(async () => ({
        ...approval,
        status: 'canceled' as const,
        decidedAt: '2025-01-02T10:05:00.000Z',
        stages: [
          countedStage({
            name: 'SRE',
            approvers: ['ou_sre1', 'ou_sre2'],
            requests: [request('ou_sre1', { status: 'closed' })],
          }),
          // Requests of a stage without atLeast are not the counted kind: not listed.
          countedStage({
            name: 'Security',
            rule: 'any',
            atLeast: null,
            approvers: ['ou_sec'],
            requests: [request('ou_sec', {})],
          }),
        ],
      })),
    });
    await renderPage(api, path);
    const sre = await screen.findByRole('list', {
      name: 'Requests in Stage 1: SRE',
    });
    expect(within(sre).getByRole('listitem')).toHaveTextContent(
      'ou_sre1: withdrawn: the approval is canceled',
    );
    expect(
      screen.queryByRole('list', { name: 'Requests in Stage 2: Security' }),
    ).toBeNull();
  });

  it('shows no stages card for an approval of a single-stage template', async () => {
    const api = fakeApi({ getApproval: jest.fn(async () => approval) });
    await renderPage(api, path);
    await screen.findByRole('list', { name: 'Timeline' });
    expect(screen.queryByRole('list', { name: 'Stages' })).toBeNull();
  });

  const FIELD_CAVEAT =
    "Each field as the template names it: the IM form's field id or name";

  it('shows the form values of an approval from before labels were kept by the field as the template names it, and says so', async () => {
    const api = fakeApi({ getApproval: jest.fn(async () => approval) });
    await renderPage(api, path);
    const table = await screen.findByRole('table', {
      name: 'Form values sent to the IM',
    });
    const rows = within(table).getAllByRole('row');
    expect(rows.map(row => row.textContent)).toEqual([
      'FieldValue',
      'Serviceapi',
      'Reasonrelease 1.2',
    ]);
    expect(screen.getByText(FIELD_CAVEAT)).toBeInTheDocument();
  });

  it("shows each form value by the IM form's label, the template's field beside it where they differ, without the caveat", async () => {
    const api = fakeApi({
      getApproval: jest.fn(async () => ({
        ...approval,
        form: [
          { field: 'Service', value: 'api', label: 'Service' },
          { field: 'widget_reason', value: 'release 1.2', label: 'Reason' },
          // A field the IM gave no label keeps the template's name.
          { field: 'widget_run', value: 'run 7' },
        ],
      })),
    });
    await renderPage(api, path);
    const table = await screen.findByRole('table', {
      name: 'Form values sent to the IM',
    });
    const [, service, reason, run] = within(table).getAllByRole('row');
    expect(within(service).getAllByRole('cell')[0]).toHaveTextContent(
      /^Service$/,
    );
    const reasonField = within(reason).getAllByRole('cell')[0];
    expect(reasonField).toHaveTextContent(/^Reason\s*widget_reason$/);
    // The template's field is the smaller, secondary text.
    expect(within(reasonField).getByText('widget_reason').className).toMatch(
      /MuiTypography-caption/,
    );
    expect(within(reason).getAllByRole('cell')[1]).toHaveTextContent(
      'release 1.2',
    );
    expect(within(run).getAllByRole('cell')[0]).toHaveTextContent(
      /^widget_run$/,
    );
    expect(screen.queryByText(FIELD_CAVEAT)).not.toBeInTheDocument();
  });

  it('shows a decision the moment the backend signals it, without a reload', async () => {
    const api = fakeApi({ getApproval: jest.fn(async () => approval) });
    const signals = fakeSignals();
    await renderPage(api, path, { signals: signals.api });
    await screen.findByRole('heading', { name: 'Deploy api from acme/api' });
    expect(screen.getByRole('status')).toHaveTextContent('Updated just now');

    // Another approval's change is not this page's.
    act(() =>
      signals.send(APPROVAL_SIGNAL_CHANNEL, {
        changes: [
          { id: '00000000-0000-4000-8000-000000000000', status: 'approved' },
        ],
      }),
    );
    api.getApproval.mockImplementation(async () => ({
      ...approval,
      status: 'approved' as const,
      decidedBy: 'Bob Li',
      decidedById: 'ou_bob',
      decidedAt: '2025-01-02T10:02:00.000Z',
    }));
    act(() =>
      signals.send(APPROVAL_SIGNAL_CHANNEL, {
        changes: [{ id: approval.id, status: 'approved' }],
      }),
    );
    expect(await screen.findByText('Bob Li (ou_bob)')).toBeInTheDocument();
    expect(api.getApproval).toHaveBeenCalledTimes(2);
    expect(screen.getByText('2m')).toBeInTheDocument();
  });

  it('says when it last read the approval, and reads it again on a signal', async () => {
    jest.useFakeTimers({ now: Date.parse('2025-01-02T10:05:00.000Z') });
    try {
      const api = fakeApi({ getApproval: jest.fn(async () => approval) });
      const signals = fakeSignals();
      await renderPage(api, path, { signals: signals.api });
      await screen.findByRole('heading', { name: 'Deploy api from acme/api' });
      expect(screen.getByRole('status')).toHaveTextContent('Updated just now');
      expect(screen.getByText('waiting for 5m')).toBeInTheDocument();

      act(() => jest.advanceTimersByTime(60_000));
      expect(screen.getByRole('status')).toHaveTextContent('Updated 1m ago');
      expect(screen.getByText('waiting for 6m')).toBeInTheDocument();

      act(() =>
        signals.send(APPROVAL_SIGNAL_CHANNEL, {
          changes: [{ id: approval.id, status: 'pending' }],
        }),
      );
      await waitFor(() => expect(api.getApproval).toHaveBeenCalledTimes(2));
      await waitFor(() =>
        expect(screen.getByRole('status')).toHaveTextContent(
          'Updated just now',
        ),
      );
    } finally {
      jest.useRealTimers();
    }
  });

  it('keeps what it last read when reading again fails, saying so with a retry', async () => {
    const api = fakeApi({ getApproval: jest.fn(async () => approval) });
    const signals = fakeSignals();
    await renderPage(api, path, { signals: signals.api });
    await screen.findByRole('heading', { name: 'Deploy api from acme/api' });

    api.getApproval.mockRejectedValueOnce(new Error('socket hang up'));
    act(() =>
      signals.send(APPROVAL_SIGNAL_CHANNEL, {
        changes: [{ id: approval.id, status: 'approved' }],
      }),
    );
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Could not read this approval: socket hang up',
    );
    expect(
      screen.getByRole('heading', { name: 'Deploy api from acme/api' }),
    ).toBeInTheDocument();

    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    await waitFor(() =>
      expect(screen.queryByRole('alert')).not.toBeInTheDocument(),
    );
    expect(api.getApproval).toHaveBeenCalledTimes(3);
  });

  it('links a run by its number only: a self-reported run id that is not one gets no link', async () => {
    const api = fakeApi({
      getApproval: jest.fn(async () => ({
        ...approval,
        context: {
          ...approval.context,
          runId: '../../settings',
          runAttempt: '1',
        },
      })),
    });
    await renderPage(api, path);
    expect(
      (await screen.findByText('../../settings, attempt 1')).closest('a'),
    ).toBeNull();
  });

  it('links only to http(s) addresses, whatever a caller or an IM reported', async () => {
    // eslint-disable-next-line no-script-url -- the test feeds script URLs in to check that none becomes a link
    const scheme = 'javascript:';
    const runUrl = `${scheme}alert(1)//acme/api/actions/runs/1`;
    const api = fakeApi({
      getApproval: jest.fn(async () => ({
        ...approval,
        imUrl: `${scheme}alert(2)`,
        context: {
          ...approval.context,
          runUrl,
          serverUrl: `${scheme}alert(3)//`,
          sha: '0123456789abcdef',
        },
      })),
    });
    await renderPage(api, path);
    expect((await screen.findByText(runUrl)).closest('a')).toBeNull();
    expect(screen.getByText('INST-1').closest('a')).toBeNull();
    expect(screen.getByText('acme/api').closest('a')).toBeNull();
    expect(screen.getByText('0123456').closest('a')).toBeNull();
    expect(screen.queryByText('GitHub server')).not.toBeInTheDocument();
  });

  it('shows the IM error of an approval whose IM request was never created', async () => {
    const error =
      'Feishu answered HTTP 503 when asked to create the instance: an outage at Feishu; retrying later';
    const api = fakeApi({
      getApproval: jest.fn(async () => ({
        ...approval,
        status: 'expired' as const,
        imInstanceId: null,
        imUrl: null,
        error,
      })),
    });
    await renderPage(api, path);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The last IM error');
    expect(alert).toHaveTextContent(error);
  });

  it('says while pending that the IM has not taken the request yet and the backend retries', async () => {
    const error = 'Feishu answered HTTP 503 when asked to create the instance';
    const api = fakeApi({
      getApproval: jest.fn(async () => ({
        ...approval,
        imInstanceId: null,
        imUrl: null,
        error,
      })),
    });
    await renderPage(api, path);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent(
      'Not in Feishu / Lark yet: the backend tries again',
    );
    expect(alert).toHaveTextContent(error);
  });

  it('shows no error alert while there is no error', async () => {
    const api = fakeApi({ getApproval: jest.fn(async () => approval) });
    await renderPage(api, path);
    await screen.findByRole('heading', { name: 'Deploy api from acme/api' });
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('marks a context the caller reported itself', async () => {
    const api = fakeApi({
      getApproval: jest.fn(async () => ({
        ...approval,
        context: { ...approval.context, verified: false },
      })),
    });
    await renderPage(api, path);
    expect(
      await screen.findByText('Self-reported by the caller'),
    ).toBeInTheDocument();
  });

  it('requires a reason before an administrator approves, then sends it and reloads', async () => {
    const approved = {
      ...approval,
      status: 'approved' as const,
      decidedBy: 'user:default/admin',
      decidedById: 'user:default/admin',
      comment: 'hotfix',
    };
    const api = fakeApi({
      getApproval: jest
        .fn()
        .mockResolvedValueOnce(approval)
        .mockResolvedValue(approved),
      decideApproval: jest.fn(async () => approved),
    });
    await renderPage(api, path);

    fireEvent.click(await screen.findByRole('button', { name: 'Approve' }));
    const dialog = await screen.findByRole('dialog');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Approve' }));
    expect(
      await within(dialog).findByText('a reason is required'),
    ).toBeInTheDocument();
    expect(api.decideApproval).not.toHaveBeenCalled();

    fireEvent.change(within(dialog).getByLabelText(/Reason/), {
      target: { value: 'hotfix' },
    });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Approve' }));
    await waitFor(() =>
      expect(api.decideApproval).toHaveBeenCalledWith(approval.id, {
        decision: 'approved',
        comment: 'hotfix',
      }),
    );
    // Decided approvals offer no actions.
    await waitFor(() =>
      expect(
        screen.queryByRole('button', { name: 'Reject' }),
      ).not.toBeInTheDocument(),
    );
    expect(api.getApproval).toHaveBeenCalledTimes(2);
  });

  it('cancels with an optional reason and shows a refusal from the backend', async () => {
    const api = fakeApi({
      getApproval: jest.fn(async () => approval),
      cancelApproval: jest.fn(async () =>
        Promise.reject(new Error('the approval is already approved')),
      ),
    });
    await renderPage(api, path);
    fireEvent.click(
      await screen.findByRole('button', { name: 'Cancel approval' }),
    );
    const dialog = await screen.findByRole('dialog');
    fireEvent.click(
      within(dialog).getByRole('button', { name: 'Cancel approval' }),
    );
    expect(
      await within(dialog).findByText('the approval is already approved'),
    ).toBeInTheDocument();
    expect(api.cancelApproval).toHaveBeenCalledWith(approval.id, undefined);
  });

  it('offers no decision to people without the decide permission', async () => {
    const api = fakeApi({ getApproval: jest.fn(async () => approval) });
    await renderPage(api, path, { deny: ['im-approval.approval.decide'] });
    expect(
      await screen.findByText(
        /Only holders of the im-approval\.approval\.decide permission/,
      ),
    ).toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Approve' }),
    ).not.toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Cancel approval' }),
    ).not.toBeInTheDocument();
  });

  it('shows why an approval could not be loaded', async () => {
    const api = fakeApi({
      getApproval: jest.fn(async () =>
        Promise.reject(new Error('Approval not found')),
      ),
    });
    await renderPage(api, path);
    expect(
      (await screen.findAllByText(/Approval not found/)).length,
    ).toBeGreaterThan(0);
  });
});

describe('the administrator’s decision dialog', () => {
  const TITLES = {
    Approve: 'Approve as an administrator',
    Reject: 'Reject as an administrator',
    'Cancel approval': 'Cancel this approval',
  };
  const openDialog = async (
    shown: typeof approval,
    button: 'Approve' | 'Reject' | 'Cancel approval',
  ) => {
    const api = fakeApi({ getApproval: jest.fn(async () => shown) });
    await renderPage(api, path);
    fireEvent.click(await screen.findByRole('button', { name: button }));
    return screen.findByRole('dialog', { name: TITLES[button] });
  };

  it('says Feishu/Lark revokes the instance, unless the definition does not allow it', async () => {
    const dialog = await openDialog(approval, 'Approve');
    expect(dialog).toHaveTextContent(
      'The waiting workflow step succeeds and the job continues.',
    );
    expect(dialog).toHaveTextContent(
      'the workflow step receives it as its comment output, with you as decided-by',
    );
    expect(
      within(dialog).getByRole('heading', { name: 'In the IM' }),
    ).toBeInTheDocument();
    expect(dialog).toHaveTextContent(
      'Backstage revokes the Feishu/Lark instance on behalf of its initiator',
    );
    expect(dialog).toHaveTextContent(
      'when the approval definition does not allow revoking pending requests), the instance stays pending there',
    );
  });

  it('says DingTalk terminates the instance, with the remark it shows approvers', async () => {
    const dialog = await openDialog(
      { ...approval, provider: 'dingtalk', integration: 'dingtalk-main' },
      'Reject',
    );
    expect(dialog).toHaveTextContent(
      'The waiting workflow step fails (unless its fail-on leaves out rejected).',
    );
    expect(dialog).toHaveTextContent(
      'Backstage terminates the DingTalk instance, so approvers see it as terminated, with the remark “Canceled in Backstage”',
    );
  });

  it('says a WeCom request stays pending in WeCom, which cannot withdraw it', async () => {
    const dialog = await openDialog(
      { ...approval, provider: 'wecom', integration: 'wecom-main' },
      'Cancel approval',
    );
    expect(dialog).toHaveTextContent(
      'The waiting workflow step ends as canceled',
    );
    expect(dialog).toHaveTextContent(
      'WeCom has no API to withdraw a request, so it stays pending in WeCom and approvers can still act on it there.',
    );
  });

  it('says nothing changes in the IM when no instance was created, and what GitHub does with a gate’s job', async () => {
    const dialog = await openDialog(
      {
        ...approval,
        imInstanceId: null,
        imUrl: null,
        context: { ...approval.context, gate: 'production' },
      },
      'Approve',
    );
    expect(dialog).toHaveTextContent(
      'GitHub releases the job the deployment gate holds.',
    );
    expect(dialog).toHaveTextContent(
      'No IM instance was created for it, so nothing changes in the IM.',
    );
    expect(dialog).toHaveTextContent(
      "GitHub shows the job's verdict as “Approved by <your user> in Backstage: “<your reason>””",
    );
    expect(dialog).not.toHaveTextContent('revokes');
  });
});
