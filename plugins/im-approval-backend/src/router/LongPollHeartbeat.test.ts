import type { Response } from 'express';
import { LongPollHeartbeat } from './LongPollHeartbeat';

/** What a held express response records of the heartbeat: its status, headers and writes, with when each write came. */
function heldResponse() {
  const writes: number[] = [];
  const headers: Record<string, string> = {};
  const res = {
    headersSent: false,
    destroyed: false,
    writableEnded: false,
    statusCode: 0,
    status(code: number) {
      this.statusCode = code;
      return this;
    },
    setHeader(name: string, value: string) {
      headers[name] = value;
    },
    write(chunk: string) {
      expect(chunk).toBe(' ');
      this.headersSent = true;
      writes.push(Date.now());
      return true;
    },
  };
  return { res, writes, headers, asExpress: res as unknown as Response };
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

describe('LongPollHeartbeat', () => {
  it('beats each held response an interval after it came, then every interval, committing a 200 with the first', async () => {
    const heartbeat = new LongPollHeartbeat(400);
    const first = heldResponse();
    const held = heartbeat.hold(first.asExpress);
    const started = Date.now();
    await sleep(200);
    const second = heldResponse();
    const secondHeld = heartbeat.hold(second.asExpress);
    expect(first.res.headersSent).toBe(false);

    await sleep(300);
    // The first is due (at 400 ms), the second (at 600 ms) not yet: beats are not all at once.
    expect(first.writes).toHaveLength(1);
    expect(second.writes).toHaveLength(0);
    expect(first.writes[0] - started).toBeGreaterThanOrEqual(400);
    expect(first.res.headersSent).toBe(true);
    expect(first.res.statusCode).toBe(200);
    expect(first.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store, no-transform',
      'x-accel-buffering': 'no',
    });

    await sleep(900);
    expect(first.writes.length).toBeGreaterThanOrEqual(3);
    expect(second.writes.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < first.writes.length; i++)
      expect(first.writes[i] - first.writes[i - 1]).toBeGreaterThanOrEqual(390);
    held.release();
    secondHeld.release();
  });

  it('never writes to a response held shorter than an interval, released, or already gone', async () => {
    const heartbeat = new LongPollHeartbeat(50);
    const brief = heldResponse();
    heartbeat.hold(brief.asExpress).release();
    const gone = heldResponse();
    const goneHeld = heartbeat.hold(gone.asExpress);
    gone.res.destroyed = true;
    const released = heldResponse();
    const releasedHeld = heartbeat.hold(released.asExpress);
    await sleep(70);
    releasedHeld.release();
    const count = released.writes.length;
    await sleep(150);

    expect(brief.writes).toHaveLength(0);
    expect(gone.writes).toHaveLength(0);
    expect(gone.res.headersSent).toBe(false);
    expect(released.writes).toHaveLength(count);
    goneHeld.release();
  });
});
