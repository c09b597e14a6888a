import { once } from 'node:events';
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { Backoff } from './backoff';
import { requestIdToken } from './oidcToken';

/** The runner's token service on loopback: answers each request with the next of `answers`. */
async function tokenService(
  answers: Array<(res: ServerResponse) => void>,
): Promise<{
  env: NodeJS.ProcessEnv;
  seen: IncomingMessage[];
  server: Server;
}> {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    (answers.shift() ?? (r => r.writeHead(500).end()))(res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    env: {
      ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runner-bearer',
    },
    seen,
    server,
  };
}

const json = (status: number, body: unknown) => (res: ServerResponse) =>
  res
    .writeHead(status, { 'content-type': 'application/json' })
    .end(JSON.stringify(body));

const quickly = () => new Backoff({ initialMs: 1, maxMs: 2 });

describe('requestIdToken', () => {
  let service: Awaited<ReturnType<typeof tokenService>> | undefined;
  const masked: string[] = [];
  afterEach(() => {
    service?.server.close();
    service = undefined;
    masked.length = 0;
  });
  const options = (env: NodeJS.ProcessEnv) => ({
    env,
    backoff: quickly(),
    mask: (token: string) => masked.push(token),
  });

  it('asks the runner for a token for the audience, with its bearer, and masks the token', async () => {
    service = await tokenService([json(200, { value: 'the.id.token' })]);
    await expect(
      requestIdToken('im-approval', options(service.env)),
    ).resolves.toBe('the.id.token');
    const [request] = service.seen;
    const url = new URL(request.url!, 'http://runner');
    expect(url.searchParams.get('api-version')).toBe('2.0');
    expect(url.searchParams.get('audience')).toBe('im-approval');
    expect(request.headers.authorization).toBe('Bearer runner-bearer');
    expect(masked).toEqual(['the.id.token']);
  });

  it('asks again after an outage, and not after a refusal', async () => {
    service = await tokenService([
      res => res.writeHead(503).end(),
      json(200, { value: 'after.the.outage' }),
    ]);
    await expect(requestIdToken('aud', options(service.env))).resolves.toBe(
      'after.the.outage',
    );
    expect(service.seen).toHaveLength(2);

    service.server.close();
    service = await tokenService([
      json(403, { message: 'no id-token permission' }),
    ]);
    await expect(requestIdToken('aud', options(service.env))).rejects.toThrow(
      'the token service answered HTTP 403',
    );
    expect(service.seen).toHaveLength(1);
  });

  it('gives up after five tries of an outage, saying what it met', async () => {
    service = await tokenService([]);
    await expect(requestIdToken('aud', options(service.env))).rejects.toThrow(
      'the token service answered HTTP 500',
    );
    expect(service.seen).toHaveLength(5);
  });

  it('refuses an answer without a token, and a runner that offers none', async () => {
    service = await tokenService([json(200, { count: 1 })]);
    await expect(requestIdToken('aud', options(service.env))).rejects.toThrow(
      'the token service answered without a token',
    );
    await expect(requestIdToken('aud', options({}))).rejects.toThrow(
      /ACTIONS_ID_TOKEN_REQUEST_URL or ACTIONS_ID_TOKEN_REQUEST_TOKEN is not set/,
    );
  });
});
