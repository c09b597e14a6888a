import { WaiterHub } from './WaiterHub';

describe('WaiterHub', () => {
  it('keeps a wake-up that comes between subscribing and waiting', async () => {
    const hub = new WaiterHub();
    const subscription = hub.subscribe('a');
    hub.wake('a');
    await expect(subscription.next(60_000)).resolves.toBe('changed');
    await expect(subscription.next(10)).resolves.toBe('timeout');
  });

  it('wakes the waiters of that approval only, and every waiter after a gap', async () => {
    const hub = new WaiterHub();
    const a = hub.subscribe('a');
    const b = hub.subscribe('b');
    const waitingA = a.next(60_000);
    const waitingB = b.next(50);
    hub.wake('a');
    await expect(waitingA).resolves.toBe('changed');
    await expect(waitingB).resolves.toBe('timeout');

    const again = [a.next(60_000), b.next(60_000)];
    hub.wakeAll();
    await expect(Promise.all(again)).resolves.toEqual(['changed', 'changed']);
  });

  it('answers at an abort, and forgets a closed subscription', async () => {
    const hub = new WaiterHub();
    const subscription = hub.subscribe('a');
    const controller = new AbortController();
    const waiting = subscription.next(60_000, controller.signal);
    controller.abort();
    await expect(waiting).resolves.toBe('aborted');
    await expect(subscription.next(60_000, controller.signal)).resolves.toBe(
      'aborted',
    );

    subscription.close();
    hub.wake('a');
    await expect(subscription.next(10)).resolves.toBe('timeout');
  });
});
