// The one HTTP client every measurement uses, product and baseline alike: node:http with
// keep-alive agents, so a figure and its baseline differ only in the server.
import http from 'node:http';

export interface Answer {
  status: number;
  text: string;
  /** performance.now() when the whole answer had arrived. */
  at: number;
}

/**
 * A pool of keep-alive connections: `maxSockets` requests in flight at once, the rest queue. TCP
 * keep-alive probes start after a minute of silence, as fetch's (the Action's client) do: node:http's
 * default second had 5,000 parked polls send 5,000 probes a second, which overflowed the loopback's
 * queue until some connections timed out.
 */
export function agent(maxSockets = 64): http.Agent {
  return new http.Agent({
    keepAlive: true,
    keepAliveMsecs: 60_000,
    maxSockets,
    maxFreeSockets: maxSockets,
    scheduling: 'fifo',
  });
}

function asBuffer(body: string | Buffer | undefined): Buffer | undefined {
  if (body === undefined || Buffer.isBuffer(body)) return body;
  return Buffer.from(body);
}

export function request(
  connections: http.Agent,
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    timeoutMs?: number;
    /** Called once the request is written to its socket (connected). */
    onWritten?: () => void;
  } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = asBuffer(options.body);
    const req = http.request(
      url,
      {
        method: options.method ?? 'GET',
        agent: connections,
        headers: {
          ...(body
            ? {
                'content-type': 'application/json',
                'content-length': String(body.length),
              }
            : {}),
          ...options.headers,
        },
      },
      res => {
        const chunks: Buffer[] = [];
        res.on('data', chunk => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            at: performance.now(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.onWritten) req.once('finish', options.onWritten);
    if (options.timeoutMs)
      req.setTimeout(options.timeoutMs, () =>
        req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)),
      );
    req.end(body);
  });
}

export function json<T = any>(answer: Answer): T {
  return (answer.text ? JSON.parse(answer.text) : undefined) as T;
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at once; resolves when all have settled. */
export async function pool<T>(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<T>,
): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, worker),
  );
  return results;
}
