import nock from 'nock';
import { ApiError, ApprovalsClient, BackendUnreachableError } from './ApprovalsClient';
import { Backoff } from './backoff';
import type { Identity } from './identity';
import { approval, ID } from './testing/approval';

const API = 'https://backstage.example.com/api/im-approval';

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

function client(identity: Identity = oidc()) {
  const retries: string[] = [];
  const instance = new ApprovalsClient({
    apiUrl: API,
    identity,
    onRetry: problem => retries.push(problem),
    backoff: () => new Backoff({ initialMs: 1, maxMs: 5 }),
  });
  return { client: instance, retries };
}

const inAMinute = () => Date.now() + 60_000;
const request = { template: 'deploy', idempotencyKey: 'run/1/deploy/approve' };

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});
afterAll(() => {
  nock.enableNetConnect();
  nock.restore();
});

describe('ApprovalsClient', () => {
  it('creates with the bearer token and tells a new approval from a repeated key', async () => {
    nock(API, { reqheaders: { authorization: 'Bearer token-1' } })
      .post('/approvals', request)
      .reply(201, approval())
      .post('/approvals', request)
      .reply(200, approval());
    const { client: api } = client();
    await expect(api.create(request, inAMinute())).resolves.toMatchObject({ created: true, approval: { id: ID } });
    await expect(api.create(request, inAMinute())).resolves.toMatchObject({ created: false });
  });

  it('retries 5xx answers and refused connections with the same request, then succeeds', async () => {
    nock(API)
      .post('/approvals', request)
      .reply(503, backstageError(503, 'ServiceUnavailableError', 'starting up'))
      .post('/approvals', request)
      .replyWithError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' }))
      .post('/approvals', request)
      .reply(201, approval());
    const { client: api, retries } = client();
    await expect(api.create(request, inAMinute())).resolves.toMatchObject({ created: true });
    expect(retries).toEqual(['Backstage answered 503: starting up', 'Backstage could not be reached (ECONNREFUSED)']);
  });

  it("fails at once on a 4xx with the server's message", async () => {
    nock(API)
      .post('/approvals')
      .reply(403, backstageError(403, 'NotAllowedError', 'Template deploy does not allow repository acme/web'));
    const { client: api, retries } = client();
    const error = await api.create(request, inAMinute()).catch(e => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      status: 403,
      message: 'Backstage answered 403 to POST /approvals: Template deploy does not allow repository acme/web',
    });
    expect(retries).toEqual([]);
  });

  it('fetches a fresh OIDC token once when the backend refuses one', async () => {
    nock(API)
      .get(`/approvals/${ID}`)
      .matchHeader('authorization', 'Bearer token-1')
      .reply(401, backstageError(401, 'AuthenticationError', 'token expired'))
      .get(`/approvals/${ID}`)
      .matchHeader('authorization', 'Bearer token-2')
      .reply(200, approval());
    const identity = oidc();
    await expect(client(identity).client.get(ID, inAMinute())).resolves.toMatchObject({ id: ID });
    expect(identity.issued).toBe(2);
  });

  it('does not loop on a token the backend keeps refusing', async () => {
    nock(API).get(`/approvals/${ID}`).times(2).reply(401, backstageError(401, 'AuthenticationError', 'audience not accepted'));
    await expect(client().client.get(ID, inAMinute())).rejects.toMatchObject({
      status: 401,
      message: expect.stringContaining('audience not accepted'),
    });
  });

  it('never asks for a new static token', async () => {
    nock(API).get(`/approvals/${ID}`).reply(401, backstageError(401, 'AuthenticationError', 'invalid token'));
    const identity: Identity = { kind: 'token', token: async () => 'static' };
    await expect(client(identity).client.get(ID, inAMinute())).rejects.toBeInstanceOf(ApiError);
  });

  it('gives up when retrying would pass the deadline', async () => {
    nock(API).get(`/approvals/${ID}`).reply(502, 'Bad Gateway');
    const error = await client().client.get(ID, Date.now()).catch(e => e);
    expect(error).toBeInstanceOf(BackendUnreachableError);
    expect(error.message).toBe(`Backstage answered 502: Bad Gateway; gave up retrying GET /approvals/${ID}`);
  });

  it('long-polls with the timeout in the query', async () => {
    nock(API).get(`/approvals/${ID}/wait`).query({ timeout: '25s' }).reply(200, approval({ status: 'approved', decidedBy: 'alice@example.com' }));
    await expect(client().client.wait(ID, 25, inAMinute())).resolves.toMatchObject({ status: 'approved' });
  });

  it('cancels with a reason', async () => {
    nock(API).post(`/approvals/${ID}/cancel`, { reason: 'job cancelled' }).reply(200, approval({ status: 'canceled' }));
    await expect(client().client.cancel(ID, 'job cancelled', inAMinute())).resolves.toMatchObject({ status: 'canceled' });
  });

  it('says when the answer is not an approval (a wrong backstage-url)', async () => {
    nock(API).get(`/approvals/${ID}`).reply(200, '<html>Backstage</html>');
    await expect(client().client.get(ID, inAMinute())).rejects.toThrow(/is not an approval \(is backstage-url right\?\)/);
  });
});
