import {
  ApiError,
  ApprovalsClient,
  BackendUnreachableError,
} from './ApprovalsClient';
import { Backoff } from './backoff';
import type { Identity } from './identity';
import { approval, ID } from './testing/approval';
import {
  startScriptedBackend,
  type Reply,
  type ScriptedBackend,
} from './testing/scriptedBackend';

const backstageError = (statusCode: number, name: string, message: string) => ({
  error: { name, message },
  response: { statusCode },
});

function oidc(): Identity & { issued: number } {
  const identity = {
    kind: 'oidc' as const,
    issued: 0,
    async token(options: { fresh?: boolean } = {}) {
      if (options.fresh || identity.issued === 0) identity.issued += 1;
      return `token-${identity.issued}`;
    },
  };
  return identity;
}

const request = { template: 'deploy', idempotencyKey: 'run/1/deploy/approve' };

describe('ApprovalsClient', () => {
  let backend: ScriptedBackend;
  let retries: string[];

  async function client(
    replies: Reply[],
    identity: Identity = oidc(),
    callRetryMs = 60_000,
  ) {
    backend = await startScriptedBackend(replies);
    retries = [];
    return new ApprovalsClient({
      apiUrl: backend.apiUrl,
      identity,
      onRetry: problem => retries.push(problem),
      backoff: () => new Backoff({ initialMs: 1, maxMs: 5 }),
      callRetryMs,
    });
  }

  afterEach(async () => {
    // eslint-disable-next-line jest/no-standalone-expect -- every test must use up the replies it scripted
    expect(backend.remaining()).toBe(0);
    await backend.close();
  });

  it('creates with the bearer token and tells a new approval from a repeated key', async () => {
    const api = await client([
      { status: 201, body: approval() },
      { status: 200, body: approval() },
    ]);
    await expect(api.create(request)).resolves.toMatchObject({
      created: true,
      approval: { id: ID },
    });
    await expect(api.create(request)).resolves.toMatchObject({
      created: false,
    });
    expect(backend.requests).toEqual([
      {
        method: 'POST',
        url: '/api/im-approval/approvals',
        authorization: 'Bearer token-1',
        body: request,
      },
      {
        method: 'POST',
        url: '/api/im-approval/approvals',
        authorization: 'Bearer token-1',
        body: request,
      },
    ]);
  });

  it('retries 5xx answers and dropped connections with the same request, then succeeds', async () => {
    const api = await client([
      {
        status: 503,
        body: backstageError(503, 'ServiceUnavailableError', 'starting up'),
      },
      'drop',
      { status: 201, body: approval() },
    ]);
    await expect(api.create(request)).resolves.toMatchObject({ created: true });
    expect(retries).toEqual([
      'Backstage answered 503: starting up',
      expect.stringMatching(/^Backstage could not be reached \(.+\)$/),
    ]);
    expect(backend.requests.map(r => r.body)).toEqual([
      request,
      request,
      request,
    ]);
  });

  it('says so when nothing listens', async () => {
    const api = await client([], oidc(), 50);
    await backend.close();
    const error = await api.get(ID).catch(e => e);
    expect(error).toBeInstanceOf(BackendUnreachableError);
    expect(error.message).toMatch(
      /^Backstage could not be reached \(ECONNREFUSED\); gave up retrying GET /,
    );
  });

  it("retries answers that are not the plugin's, as from a backend still starting or a proxy, until one is", async () => {
    const api = await client([
      // Backstage listens before it mounts the plugin's router: 404, empty body.
      { status: 404, body: '' },
      { status: 404, body: '<html><body>Not Found</body></html>' },
      { status: 404, body: { message: 'no route' } },
      // Backstage's shape, but not sent with this status: not an answer to trust.
      { status: 404, body: backstageError(500, 'Error', 'proxied') },
      { status: 403, body: '<html>Forbidden by the proxy</html>' },
      { status: 502, body: '<html>Bad Gateway</html>' },
      {
        status: 503,
        body: backstageError(
          503,
          'ServiceUnavailableError',
          'Service has not started up yet',
        ),
      },
      { status: 201, body: approval() },
    ]);
    await expect(api.create(request)).resolves.toMatchObject({ created: true });
    const notThePlugin =
      ", not the im-approval plugin's answer (is the backend starting, or backstage-url wrong?)";
    expect(retries).toEqual([
      `Backstage answered 404: an empty body${notThePlugin}`,
      `Backstage answered 404: "<html><body>Not Found</body></html>"${notThePlugin}`,
      `Backstage answered 404: "{\"message\":\"no route\"}"${notThePlugin}`,
      `Backstage answered 404: "{\"error\":{\"name\":\"Error\",\"message\":\"proxied\"},\"response\":{\"statusCode\":500}}"${notThePlugin}`,
      `Backstage answered 403: "<html>Forbidden by the proxy</html>"${notThePlugin}`,
      `Backstage answered 502: "<html>Bad Gateway</html>"${notThePlugin}`,
      'Backstage answered 503: Service has not started up yet',
    ]);
    expect(backend.requests.map(r => r.body)).toEqual(Array(8).fill(request));
  });

  it("fails at once on the plugin's own 404 and 409, with its message", async () => {
    const api = await client([
      {
        status: 404,
        body: backstageError(404, 'NotFoundError', `No approval ${ID}`),
      },
      {
        status: 409,
        body: backstageError(
          409,
          'ConflictError',
          'The approval is already approved',
        ),
      },
    ]);
    await expect(api.get(ID)).rejects.toMatchObject({
      status: 404,
      message: `Backstage answered 404 to GET /approvals/${ID}: No approval ${ID}`,
    });
    await expect(api.cancel(ID, 'job cancelled')).rejects.toMatchObject({
      status: 409,
      message: `Backstage answered 409 to POST /approvals/${ID}/cancel: The approval is already approved`,
    });
    expect(retries).toEqual([]);
  });

  it('keeps what the backend said on one line in its messages', async () => {
    const api = await client([
      { status: 404, body: 'gone\n::warning::pwned' },
      {
        status: 400,
        body: backstageError(400, 'InputError', 'bad\n::add-mask::x'),
      },
    ]);
    const error = await api.create(request).catch(e => e);
    expect(retries).toEqual([
      expect.stringMatching(
        /^Backstage answered 404: "gone\\n::warning::pwned", not the im-approval plugin's answer/,
      ),
    ]);
    expect(error.message).toBe(
      'Backstage answered 400 to POST /approvals: bad\\n::add-mask::x',
    );
  });

  it("fails at once on a 4xx with the server's message", async () => {
    const api = await client([
      {
        status: 403,
        body: backstageError(
          403,
          'NotAllowedError',
          'Template deploy does not allow repository acme/web',
        ),
      },
    ]);
    const error = await api.create(request).catch(e => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      status: 403,
      message:
        'Backstage answered 403 to POST /approvals: Template deploy does not allow repository acme/web',
    });
    expect(retries).toEqual([]);
  });

  it('fetches a fresh OIDC token once when the backend refuses one', async () => {
    const identity = oidc();
    const api = await client(
      [
        {
          status: 401,
          body: backstageError(401, 'AuthenticationError', 'token expired'),
        },
        { status: 200, body: approval() },
      ],
      identity,
    );
    await expect(api.get(ID)).resolves.toMatchObject({ id: ID });
    expect(backend.requests.map(r => r.authorization)).toEqual([
      'Bearer token-1',
      'Bearer token-2',
    ]);
  });

  it('does not loop on a token the backend keeps refusing', async () => {
    const refused = {
      status: 401,
      body: backstageError(401, 'AuthenticationError', 'audience not accepted'),
    };
    const api = await client([refused, refused]);
    await expect(api.get(ID)).rejects.toMatchObject({
      status: 401,
      message: expect.stringContaining('audience not accepted'),
    });
  });

  it('never asks for a new static token', async () => {
    const api = await client(
      [
        {
          status: 401,
          body: backstageError(401, 'AuthenticationError', 'invalid token'),
        },
      ],
      {
        kind: 'token',
        token: async () => 'static',
      },
    );
    await expect(api.get(ID)).rejects.toBeInstanceOf(ApiError);
  });

  it('gives up when retrying would pass the deadline', async () => {
    const api = await client([{ status: 502, body: 'Bad Gateway' }], oidc(), 0);
    const error = await api.get(ID).catch(e => e);
    expect(error).toBeInstanceOf(BackendUnreachableError);
    expect(error.message).toBe(
      `Backstage answered 502: "Bad Gateway", not the im-approval plugin's answer (is the backend starting, or backstage-url wrong?); gave up retrying GET /approvals/${ID}`,
    );
  });

  it('long-polls with the timeout in the query, and cancels with a reason', async () => {
    const api = await client([
      {
        status: 200,
        body: approval({
          status: 'approved',
          decidedBy: 'Alice Chen',
          decidedById: 'ou_alice',
        }),
      },
      { status: 200, body: approval({ status: 'canceled' }) },
    ]);
    await expect(api.wait(ID, 25, Date.now() + 60_000)).resolves.toMatchObject({
      status: 'approved',
    });
    await expect(api.cancel(ID, 'job cancelled')).resolves.toMatchObject({
      status: 'canceled',
    });
    expect(backend.requests.map(r => [r.method, r.url, r.body])).toEqual([
      ['GET', `/api/im-approval/approvals/${ID}/wait?timeout=25s`, undefined],
      [
        'POST',
        `/api/im-approval/approvals/${ID}/cancel`,
        { reason: 'job cancelled' },
      ],
    ]);
  });

  it('reads an approval from a backend that keeps no decider id as one with none', async () => {
    const { decidedById: _, ...older } = approval({
      status: 'approved',
      decidedBy: 'alice@example.com',
    });
    const api = await client([{ status: 200, body: older }]);
    await expect(api.get(ID)).resolves.toMatchObject({
      decidedBy: 'alice@example.com',
      decidedById: null,
    });
  });

  it('reads a newer backend whose timeline has kinds of event it does not know, keeping the ones it does', async () => {
    const event = (type: string) => ({
      type,
      at: '2026-12-04T10:00:00.000Z',
      source: 'scheduler',
      actor: null,
      message: null,
    });
    const api = await client([
      {
        status: 200,
        body: {
          ...approval(),
          timeline: [event('created'), event('a-later-kind'), event('expired')],
        },
      },
    ]);
    const read = await api.get(ID);
    expect(read.timeline.map(e => e.type)).toEqual(['created', 'expired']);
  });

  it('still refuses a timeline event that is not an event at all', async () => {
    const api = await client([
      { status: 200, body: { ...approval(), timeline: [{ type: 'created' }] } },
    ]);
    await expect(api.get(ID)).rejects.toThrow(/is not an approval/);
  });

  it('says when the answer is not an approval (a wrong backstage-url)', async () => {
    const api = await client([{ status: 200, body: '<html>Backstage</html>' }]);
    await expect(api.get(ID)).rejects.toThrow(
      /is not an approval \(is backstage-url right\?\)/,
    );
  });
});
