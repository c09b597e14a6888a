import { mockServices } from '@backstage/backend-test-utils';
import type { Integration } from '@im-approval/plugin-im-approval-common';
import type {
  ImConnectionObserver,
  ImEventHandler,
} from '@im-approval/plugin-im-approval-node';
import type { ImClients } from './ImClients';
import { ImConnections, type CurrentIntegrations } from './ImConnections';

function dingtalk(id: string, overrides: Record<string, unknown> = {}) {
  return {
    id,
    provider: 'dingtalk',
    baseUrl: 'http://127.0.0.1:1',
    legacyBaseUrl: 'http://127.0.0.1:1',
    appKey: `key-${id}`,
    appSecret: 'the-app-secret',
    agentId: 1,
    connectionMode: 'stream',
    initiator: 'bot',
    ...overrides,
  } as unknown as Integration;
}

/** A connection the test opens and drops by hand, one per `connect` call. */
interface FakeConnection {
  integration: Integration;
  observer: ImConnectionObserver;
  onEvents: ImEventHandler;
  closed: boolean;
}

function setUp(
  initial: Integration[],
  options: {
    /** Why the attempt fails, if it does; a promise holds the attempt until it settles. */
    failOpen?: (
      integration: Integration,
    ) => string | undefined | Promise<string | undefined>;
  } = {},
) {
  let current: CurrentIntegrations = { integrations: initial, unreadable: [] };
  const opened: FakeConnection[] = [];
  const attempts: string[] = [];
  const clients = {
    forIntegration: (integration: Integration) => ({
      connect: async (
        onEvents: ImEventHandler,
        observer: ImConnectionObserver,
      ) => {
        attempts.push(integration.id);
        const failure = await options.failOpen?.(integration);
        if (failure) throw new Error(failure);
        const connection: FakeConnection = {
          integration,
          observer,
          onEvents,
          closed: false,
        };
        opened.push(connection);
        return {
          close: async () => {
            connection.closed = true;
          },
        };
      },
    }),
  } as unknown as ImClients;
  const logger = mockServices.logger.mock();
  const events: Array<{ id: string; count: number }> = [];
  const connections = new ImConnections({
    clients,
    logger,
    load: async () => current,
    onEvents: integration => async batch => {
      events.push({ id: integration.id, count: batch.length });
    },
    retry: { minMs: 20, maxMs: 40 },
  });
  return {
    connections,
    opened,
    attempts,
    events,
    logger,
    open: (id: string) =>
      opened.filter(c => c.integration.id === id && !c.closed),
    set(next: Partial<CurrentIntegrations>) {
      current = { integrations: [], unreadable: [], ...next };
    },
  };
}

const healthOf = (connections: ImConnections, integration: Integration) =>
  connections.health([integration])[0];

async function eventually(check: () => boolean, timeoutMs = 2_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise(r => setTimeout(r, 5));
  }
}

describe('ImConnections', () => {
  it('opens the held connections at start and none for callback or poll modes', async () => {
    const stream = dingtalk('stream-app');
    const callback = dingtalk('callback-app', { connectionMode: 'callback' });
    const t = setUp([stream, callback]);
    await t.connections.reconcile();
    expect(t.opened.map(c => c.integration.id)).toEqual(['stream-app']);
    expect(healthOf(t.connections, stream)).toMatchObject({
      connection: 'connecting',
    });
    expect(healthOf(t.connections, callback)).toEqual({
      id: 'callback-app',
      connectionMode: 'callback',
      connection: 'not-needed',
    });

    t.opened[0].observer.connected();
    expect(healthOf(t.connections, stream)).toEqual({
      id: 'stream-app',
      connectionMode: 'stream',
      connection: 'connected',
      since: expect.any(String),
    });
    await t.connections.stop();
    expect(t.opened[0].closed).toBe(true);
  });

  it('opens an added integration, reopens a changed one and closes a removed one', async () => {
    const first = dingtalk('first');
    const t = setUp([first]);
    await t.connections.reconcile();

    const second = dingtalk('second');
    t.set({ integrations: [first, second] });
    await t.connections.reconcile();
    expect(t.open('first')).toHaveLength(1);
    expect(t.open('second')).toHaveLength(1);

    // Unchanged settings keep their connection: a reconcile that finds nothing new opens nothing.
    await t.connections.reconcile();
    expect(t.opened).toHaveLength(2);

    const changed = dingtalk('first', { appSecret: 'a-new-secret' });
    t.set({ integrations: [changed, second] });
    await t.connections.reconcile();
    const firsts = t.opened.filter(c => c.integration.id === 'first');
    expect(firsts.map(c => c.closed)).toEqual([true, false]);
    expect(firsts[1].integration).toBe(changed);

    // Switching to callbacks closes the connection as removing does.
    t.set({
      integrations: [dingtalk('first', { connectionMode: 'callback' })],
    });
    await t.connections.reconcile();
    expect(t.open('first')).toEqual([]);
    expect(t.open('second')).toEqual([]);
    expect(t.opened).toHaveLength(3);
  });

  it('hands events to the intake with the integration they came over', async () => {
    const t = setUp([dingtalk('stream-app')]);
    await t.connections.reconcile();
    await t.opened[0].onEvents([{ eventId: 'e1', instanceId: 'i1' } as never]);
    expect(t.events).toEqual([{ id: 'stream-app', count: 1 }]);
  });

  it('records a failure to open without the secret, retries with backoff, and logs it once', async () => {
    let failures = 3;
    const app = dingtalk('flaky');
    const t = setUp([app], {
      failOpen: () =>
        failures-- > 0
          ? 'DingTalk refused the-app-secret for key-flaky'
          : undefined,
    });
    await t.connections.reconcile();
    expect(healthOf(t.connections, app)).toMatchObject({
      connection: 'connecting',
      lastError: {
        message: 'DingTalk refused *** for key-flaky',
        at: expect.any(String),
      },
    });
    await eventually(() => t.open('flaky').length === 1);
    expect(t.logger.warn).toHaveBeenCalledTimes(1);
    expect(String(jest.mocked(t.logger.warn).mock.calls[0][0])).not.toContain(
      'the-app-secret',
    );

    t.open('flaky')[0].observer.connected();
    expect(t.logger.info).toHaveBeenCalledWith(
      expect.stringContaining('open again'),
    );
    // The last error stays to be read after the connection recovered.
    expect(healthOf(t.connections, app)).toMatchObject({
      connection: 'connected',
      lastError: { message: 'DingTalk refused *** for key-flaky' },
    });
    await t.connections.stop();
  });

  it('shows a drop as reconnecting since then, and a give-up reopens the connection', async () => {
    const app = dingtalk('drops');
    const t = setUp([app]);
    await t.connections.reconcile();
    const [first] = t.opened;
    first.observer.connected();
    first.observer.reconnecting('the connection closed');
    const dropped = healthOf(t.connections, app);
    expect(dropped).toMatchObject({
      connection: 'reconnecting',
      lastError: { message: 'the connection closed' },
    });

    first.observer.failed('the SDK gave up reconnecting');
    expect(first.closed).toBe(true);
    await eventually(() => t.open('drops').length === 1);
    // The abandoned connection's reports no longer count.
    first.observer.connected();
    expect(healthOf(t.connections, app).connection).toBe('reconnecting');
    t.open('drops')[0].observer.connected();
    expect(healthOf(t.connections, app).connection).toBe('connected');
    await t.connections.stop();
  });

  it('stops retrying an integration that was removed while it failed', async () => {
    const app = dingtalk('gone');
    const t = setUp([app], { failOpen: () => 'unreachable' });
    await t.connections.reconcile();
    await eventually(() => t.attempts.length >= 2);
    t.set({ integrations: [] });
    await t.connections.reconcile();
    const attempts = t.attempts.length;
    // Longer than the longest backoff (40 ms): a retry still armed would have run.
    await new Promise(r => setTimeout(r, 150));
    expect(t.attempts).toHaveLength(attempts);
    expect(t.opened).toEqual([]);
    expect(t.connections.health([app])[0]).not.toHaveProperty('lastError');
  });

  describe('with a retry in flight', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('forgets a retry whose connect fails after stop: no timer, no log, no error', async () => {
      const app = dingtalk('late');
      let fail: (reason: string) => void = () => undefined;
      const t = setUp([app], {
        failOpen: () =>
          t.attempts.length === 1
            ? 'unreachable'
            : new Promise<string>(resolve => (fail = resolve)),
      });
      await t.connections.reconcile();
      const firstError = healthOf(t.connections, app).lastError;
      await jest.advanceTimersByTimeAsync(20);
      expect(t.attempts).toHaveLength(2);

      await t.connections.stop();
      jest.mocked(t.logger.warn).mockClear();
      jest.mocked(t.logger.debug).mockClear();
      fail('unreachable after stop');
      await jest.advanceTimersByTimeAsync(0);
      expect(jest.getTimerCount()).toBe(0);
      expect(t.logger.warn).not.toHaveBeenCalled();
      expect(t.logger.debug).not.toHaveBeenCalled();
      expect(healthOf(t.connections, app).lastError).toEqual(firstError);
    });

    it('unrefs its retry timer, so a retry never keeps the process alive', async () => {
      const unref = jest.spyOn(global, 'setTimeout');
      const t = setUp([dingtalk('down')], { failOpen: () => 'unreachable' });
      await t.connections.reconcile();
      const timer = unref.mock.results.at(-1)?.value as NodeJS.Timeout;
      expect(timer.hasRef()).toBe(false);
      unref.mockRestore();
      await t.connections.stop();
    });
  });

  it('opens the connections side by side: a slow app does not hold up another', async () => {
    const t = setUp([dingtalk('slow'), dingtalk('fast')], {
      failOpen: integration =>
        integration.id === 'slow'
          ? new Promise<undefined>(() => undefined)
          : undefined,
    });
    void t.connections.reconcile();
    await eventually(() => t.open('fast').length === 1);
    expect(t.attempts).toEqual(['slow', 'fast']);
  });

  it('logs a run that fails and keeps reconciling after it', async () => {
    const logger = mockServices.logger.mock();
    let loads = 0;
    const connections = new ImConnections({
      clients: {} as ImClients,
      logger,
      load: async () => {
        loads++;
        // Not the shape promised: the run throws past its own error handling.
        return (
          loads === 1 ? {} : { integrations: [], unreadable: [] }
        ) as CurrentIntegrations;
      },
      onEvents: () => async () => undefined,
    });
    await expect(connections.reconcile()).resolves.toBeUndefined();
    expect(logger.error).toHaveBeenCalledWith(
      expect.stringContaining('Could not bring the IM connections in line'),
    );
    await expect(connections.reconcile()).resolves.toBeUndefined();
    expect(loads).toBe(2);
  });

  it('shows an unreadable held app as unavailable, and drops its error once it can be read', async () => {
    const broken = { id: 'broken', provider: 'dingtalk' as const };
    const t = setUp([]);
    t.set({
      unreadable: [{ id: 'broken', message: 'enter the appSecret again' }],
    });
    await t.connections.reconcile();
    expect(
      t.connections.health([{ ...broken, connectionMode: 'stream' }])[0],
    ).toMatchObject({
      connection: 'unavailable',
      lastError: { message: 'enter the appSecret again' },
    });

    // Readable again, in a mode that holds nothing: nothing else would clear the error.
    t.set({
      integrations: [dingtalk('broken', { connectionMode: 'callback' })],
    });
    await t.connections.reconcile();
    expect(
      t.connections.health([{ ...broken, connectionMode: 'callback' }])[0],
    ).toEqual({
      id: 'broken',
      connectionMode: 'callback',
      connection: 'not-needed',
    });
  });

  it("keeps an unreadable integration's reason as its last error and opens the others", async () => {
    const t = setUp([]);
    t.set({
      integrations: [dingtalk('fine')],
      unreadable: [{ id: 'broken', message: 'enter the appSecret again' }],
    });
    await t.connections.reconcile();
    expect(t.open('fine')).toHaveLength(1);
    expect(
      t.connections.health([
        { id: 'broken', provider: 'dingtalk', connectionMode: 'stream' },
      ])[0],
    ).toMatchObject({
      connection: 'unavailable',
      lastError: { message: 'enter the appSecret again' },
    });
    await t.connections.stop();
  });

  it('keeps the time of the last event received, for any mode', async () => {
    const callback = dingtalk('callback-app', { connectionMode: 'callback' });
    const t = setUp([callback]);
    await t.connections.reconcile();
    t.connections.received('callback-app');
    expect(healthOf(t.connections, callback).lastEventAt).toEqual(
      expect.any(String),
    );
  });

  it('shares one run among reconciles asked for while one runs', async () => {
    const t = setUp([]);
    let loads = 0;
    const connections = new ImConnections({
      clients: {} as ImClients,
      logger: t.logger,
      load: async () => {
        loads++;
        await new Promise(r => setTimeout(r, 10));
        return { integrations: [], unreadable: [] };
      },
      onEvents: () => async () => undefined,
    });
    const first = connections.reconcile();
    await eventually(() => loads === 1);
    // Asked for while the first reads: both get the one run after it, which sees their change.
    await Promise.all([
      first,
      connections.reconcile(),
      connections.reconcile(),
    ]);
    expect(loads).toBe(2);
  });

  it('survives integrations that cannot be read at all', async () => {
    const logger = mockServices.logger.mock();
    const connections = new ImConnections({
      clients: {} as ImClients,
      logger,
      load: async () => {
        throw new Error('database unavailable');
      },
      onEvents: () => async () => undefined,
    });
    await expect(connections.reconcile()).resolves.toBeUndefined();
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringContaining('database unavailable'),
    );
  });
});
