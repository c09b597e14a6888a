import { ImApiError } from '@im-approval/plugin-im-approval-node';
import { dingtalkRateLimits } from '../dingtalk/DingtalkApi';
import { feishuRateLimits } from '../feishu/FeishuApi';
import { wecomRateLimits } from '../wecom/WecomApi';
import { MAX_RATE_WAIT_MS, RateBudget, type RateLimit } from './RateBudget';
import type { ApiCall } from './requestJson';

/** A clock that moves only when a caller sleeps (each sleeper waking at its own moment), or when set. */
function manualClock() {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
    set: (at: number) => {
      now = at;
    },
  };
}

const read: ApiCall = {
  operation: 'read an approval instance',
  method: 'GET',
  path: '/open-apis/approval/v4/instances/I-1',
};

describe('RateBudget', () => {
  /** Runs calls one after another, each answered at once; answers when each was sent. */
  async function sequentially(
    budget: RateBudget,
    clock: { now(): number },
    n: number,
    call = read,
  ) {
    const sent: number[] = [];
    for (let i = 0; i < n; i++)
      await budget.run(call, async () => {
        sent.push(clock.now());
      });
    return sent;
  }

  it('lets calls through at once while a window has room, then each at the first moment it has', async () => {
    const clock = manualClock();
    const budget = new RateBudget(
      'Feishu',
      () => [{ name: 'get', count: 3, windowMs: 1000 }],
      { clock },
    );
    expect(await sequentially(budget, clock, 7)).toEqual([
      0, 0, 0, 1000, 1000, 1000, 2000,
    ]);
  });

  it('keeps within every limit a call counts against, and lets calls under no limit pass', async () => {
    const clock = manualClock();
    const limits: RateLimit[] = [
      { name: 'per second', count: 2, windowMs: 1000 },
      { name: 'per 4 s', count: 3, windowMs: 4000 },
    ];
    const budget = new RateBudget(
      'Feishu',
      call => (call.method === 'GET' ? limits : []),
      { clock },
    );
    expect(await sequentially(budget, clock, 5)).toEqual([
      0, 0, 1000, 4000, 4000,
    ]);
    expect(
      await sequentially(budget, clock, 3, { ...read, method: 'POST' }),
    ).toEqual([4000, 4000, 4000]);
  });

  it('counts a call until its answer comes, as of the answer: the IM may see it at any moment till then', async () => {
    const clock = manualClock();
    const budget = new RateBudget(
      'DingTalk',
      () => [{ name: 'api', count: 1, windowMs: 1000 }],
      { clock },
    );
    // Sent at 0, answered at 700: the next may go at 1,700, not at 1,000.
    await budget.run(read, async () => clock.set(700));
    expect(await sequentially(budget, clock, 1)).toEqual([1700]);
  });

  it('holds calls made together while the window is full of calls in flight', async () => {
    const clock = manualClock();
    // A sleeper wakes in a later turn, so the calls in flight can be answered meanwhile.
    const budget = new RateBudget(
      'DingTalk',
      () => [{ name: 'api', count: 2, windowMs: 1000 }],
      {
        clock: {
          now: clock.now,
          sleep: ms =>
            new Promise(resolve =>
              setImmediate(() => resolve(clock.sleep(ms))),
            ),
        },
      },
    );
    let release!: () => void;
    const answered = new Promise<void>(resolve => (release = resolve));
    const sent: number[] = [];
    const calls = [1, 2, 3].map(() =>
      budget.run(read, async () => {
        sent.push(clock.now());
        await answered;
      }),
    );
    await new Promise(resolve => setImmediate(resolve));
    // Two in flight: the third waits for one to be answered and its second to pass.
    expect(sent).toEqual([0, 0]);
    release();
    await Promise.all(calls);
    expect(sent).toHaveLength(3);
    expect(sent[2]).toBeGreaterThanOrEqual(1000);
  });

  it('sends every call as it comes when turned off (imApproval.imRateLimits: off)', async () => {
    const clock = manualClock();
    const budget = new RateBudget(
      'Feishu',
      () => [{ name: 'get', count: 1, windowMs: 1000 }],
      { clock, enabled: false },
    );
    expect(await sequentially(budget, clock, 3)).toEqual([0, 0, 0]);
  });

  it('refuses, as rate-limited and without sending it, a call that would wait longer than it may', async () => {
    const clock = manualClock();
    const budget = new RateBudget(
      'WeCom',
      () => [{ name: 'oa', count: 1, windowMs: MAX_RATE_WAIT_MS + 1000 }],
      { clock },
    );
    await sequentially(budget, clock, 1);
    const send = jest.fn();
    const refusal = await budget
      .run(read, send)
      .catch((error: ImApiError) => error);
    expect(send).not.toHaveBeenCalled();
    expect(refusal).toBeInstanceOf(ImApiError);
    expect(refusal).toMatchObject({
      kind: 'rate_limited',
      message:
        'WeCom allows 1 calls per 6 s to read an approval instance for this app, and the calls already made leave no room for 6 s; retrying later (for an app whose quota was raised, set imApproval.imRateLimits: off)',
    });
    clock.set(MAX_RATE_WAIT_MS + 1000);
    expect(await sequentially(budget, clock, 1)).toEqual([
      MAX_RATE_WAIT_MS + 1000,
    ]);
  });
});

describe("the IMs' documented limits", () => {
  const call = (
    method: 'GET' | 'POST',
    path: string,
    body?: object,
  ): ApiCall => ({
    operation: 'x',
    method,
    path,
    ...(body && { body }),
  });

  it('Feishu: create and subscribe 100 a minute, read 50 a second and 1000 a minute, the rest unlimited', () => {
    const v4 = '/open-apis/approval/v4';
    expect(feishuRateLimits(call('POST', `${v4}/instances`))).toEqual([
      { name: 'instance.create', count: 100, windowMs: 60_000 },
    ]);
    expect(
      feishuRateLimits(call('POST', `${v4}/approvals/CODE/subscribe`)),
    ).toEqual([{ name: 'subscribe', count: 100, windowMs: 60_000 }]);
    expect(feishuRateLimits(call('GET', `${v4}/instances/I-1`))).toEqual([
      { name: 'instance.get/s', count: 50, windowMs: 1000 },
      { name: 'instance.get/min', count: 1000, windowMs: 60_000 },
    ]);
    expect(feishuRateLimits(call('POST', `${v4}/instances/cancel`))).toEqual(
      [],
    );
  });

  it('Feishu messages: 50 a second and 1000 a minute per app, and 5 a second to one person', () => {
    expect(
      feishuRateLimits(
        call('POST', '/open-apis/im/v1/messages', { receive_id: 'ou_alice' }),
      ),
    ).toEqual([
      { name: 'message.create/s', count: 50, windowMs: 1000 },
      { name: 'message.create/min', count: 1000, windowMs: 60_000 },
      { name: 'message.create/to ou_alice', count: 5, windowMs: 1000 },
    ]);
  });

  it('WeCom messages: 30 a minute to each member named, which WeCom would drop silently', () => {
    expect(
      wecomRateLimits(
        call('POST', '/cgi-bin/message/send', { touser: 'alice|bob' }),
      ),
    ).toEqual([
      { name: 'message.send/to alice', count: 30, windowMs: 60_000 },
      { name: 'message.send/to bob', count: 30, windowMs: 60_000 },
    ]);
  });

  it('DingTalk: 20 a second for each API, an API being its method and path', () => {
    expect(
      dingtalkRateLimits(call('GET', '/v1.0/workflow/processInstances')),
    ).toEqual([
      {
        name: 'GET /v1.0/workflow/processInstances',
        count: 20,
        windowMs: 1000,
      },
    ]);
    expect(
      dingtalkRateLimits(call('POST', '/v1.0/workflow/processInstances'))[0]
        .name,
    ).toBe('POST /v1.0/workflow/processInstances');
  });

  it('WeCom: 600 a minute for the OA APIs together, contacts unlimited', () => {
    const oa = wecomRateLimits(call('POST', '/cgi-bin/oa/applyevent'));
    expect(oa).toEqual([{ name: 'oa', count: 600, windowMs: 60_000 }]);
    expect(
      wecomRateLimits(call('POST', '/cgi-bin/oa/getapprovaldetail')),
    ).toEqual(oa);
    expect(wecomRateLimits(call('GET', '/cgi-bin/user/get'))).toEqual([]);
  });
});
