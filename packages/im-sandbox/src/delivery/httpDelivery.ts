import http from 'node:http';
import https from 'node:https';
import type { DeliveryControl, DeliveryLog, EventIdentity } from './log';

// Pushes events over HTTP the way the open platforms do: redelivery until the receiver
// acknowledges, with the misbehaviour (duplicates, delays, drops) a robust receiver must survive.
// What a request looks like and what counts as an acknowledgement is each IM's own.

export interface HttpAnswer {
  status: number;
  body: string;
}

export interface HttpPush {
  event: EventIdentity & { url: string };
  /**
   * One attempt's request: each attempt is freshly timestamped and signed, as the IMs do. `query`
   * is added to the URL's own query (a callback URL may already have one).
   */
  request(): {
    method: 'GET' | 'POST';
    url: string;
    query?: URLSearchParams;
    headers: http.OutgoingHttpHeaders;
    body?: string;
  };
  /** Why the answer does not acknowledge the event; undefined when it does. */
  refusal(answer: HttpAnswer): string | undefined;
}

/** One attempt's answer (or why there was none), and the URL it went to. */
type Sent = (HttpAnswer | { error: string }) & { url: string };

export interface HttpDeliveryOptions {
  /** Waits before each redelivery; its length is the number of retries. */
  retryDelaysMs: number[];
  /**
   * How long the IM waits for the receiver's answer before it counts the push as failed (and
   * redelivers): each IM's own, documented deadline, never scaled, since it is what a receiver must meet.
   */
  answerDeadlineMs: number;
}

export class HttpDelivery {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly requests = new Set<http.ClientRequest>();
  /** Bumped by reset() so answers to abandoned pushes are not recorded. */
  private generation = 0;
  private closed = false;

  constructor(
    private readonly log: DeliveryLog,
    private readonly options: HttpDeliveryOptions,
  ) {}

  /**
   * Delivers one event as the control asks: dropped, delayed, or sent twice. `onSettled` (optional)
   * is called once the event is done with: every copy acknowledged or out of retries, or dropped;
   * `delivered` says whether some copy was acknowledged. Not called for pushes abandoned by reset()
   * or close().
   */
  deliver(
    push: HttpPush,
    control: DeliveryControl = {},
    onSettled?: (delivered: boolean) => void,
  ): void {
    if (control.drop) {
      this.log.record(push.event, {
        attempt: 0,
        outcome: 'dropped',
        willRetry: false,
      });
      onSettled?.(false);
      return;
    }
    const generation = this.generation;
    let copies = control.duplicate ? 2 : 1;
    let delivered = false;
    const settle = (acknowledged: boolean) => {
      delivered ||= acknowledged;
      copies -= 1;
      if (copies === 0) onSettled?.(delivered);
    };
    for (let copy = 0, all = copies; copy < all; copy += 1) {
      this.schedule(
        () => this.attempt(push, 1, generation, settle),
        control.delayMs ?? 0,
      );
    }
  }

  /** One request now, no retries: the URL checks the consoles make when a callback URL is saved. */
  async probe(push: HttpPush): Promise<string | undefined> {
    return this.judge(push, await this.send(push), 1, false);
  }

  /** Abandons pending and in-flight pushes. */
  reset(): void {
    this.generation += 1;
    this.cancelAll();
  }

  close(): void {
    this.closed = true;
    this.cancelAll();
  }

  private attempt(
    push: HttpPush,
    attempt: number,
    generation: number,
    settle: (delivered: boolean) => void,
  ): void {
    void this.send(push).then(result => {
      if (this.closed || generation !== this.generation) return;
      const retryDelay = this.options.retryDelaysMs[attempt - 1];
      const refusal = this.judge(
        push,
        result,
        attempt,
        retryDelay !== undefined,
      );
      if (refusal !== undefined && retryDelay !== undefined) {
        this.schedule(
          () => this.attempt(push, attempt + 1, generation, settle),
          retryDelay,
        );
      } else {
        settle(refusal === undefined);
      }
    });
  }

  /** Records one attempt's outcome and returns why it was refused; `retriesLeft`: a refused attempt will be retried. */
  private judge(
    push: HttpPush,
    result: Sent,
    attempt: number,
    retriesLeft: boolean,
  ): string | undefined {
    const refusal = 'error' in result ? result.error : push.refusal(result);
    // The URL this attempt went to: an IM may redeliver to a request URL changed since.
    this.log.record(
      { ...push.event, url: result.url },
      {
        attempt,
        outcome: refusal === undefined ? 'delivered' : 'failed',
        httpStatus: 'status' in result ? result.status : undefined,
        error: refusal,
        willRetry: refusal !== undefined && retriesLeft,
      },
    );
    return refusal;
  }

  private send(push: HttpPush): Promise<Sent> {
    const { method, url, query, headers, body } = push.request();
    const target = new URL(url);
    query?.forEach((value, name) => target.searchParams.append(name, value));
    return new Promise(resolve => {
      const transport = target.protocol === 'https:' ? https : http;
      const allHeaders =
        body === undefined
          ? headers
          : { ...headers, 'content-length': Buffer.byteLength(body) };
      // No connection reuse: a receiver that is shut down must not be kept alive by the sandbox.
      const { answerDeadlineMs } = this.options;
      const request = transport.request(target, {
        method,
        headers: allHeaders,
        agent: false,
      });
      this.requests.add(request);
      // The whole answer, not only the first byte: an IM hangs up on a receiver that is slow to finish.
      const deadline = setTimeout(
        () =>
          request.destroy(new Error(`no answer within ${answerDeadlineMs} ms`)),
        answerDeadlineMs,
      );
      request.on('close', () => clearTimeout(deadline));
      request.on('error', error => {
        this.requests.delete(request);
        resolve({ error: error.message, url });
      });
      request.on('response', response => {
        const chunks: Buffer[] = [];
        response.on('data', chunk => chunks.push(chunk));
        response.on('end', () => {
          this.requests.delete(request);
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            url,
          });
        });
        response.on('error', error => {
          this.requests.delete(request);
          resolve({ error: error.message, url });
        });
      });
      request.end(body);
    });
  }

  private schedule(run: () => void, delayMs: number): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, delayMs);
    this.timers.add(timer);
  }

  private cancelAll(): void {
    this.timers.forEach(timer => clearTimeout(timer));
    this.timers.clear();
    this.requests.forEach(request => request.destroy());
    this.requests.clear();
  }
}
