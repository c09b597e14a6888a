import { errorMessage } from '../components/shared/errorMessage';
import { ImApprovalClient } from './ImApprovalClient';

const BASE = 'http://backstage.test/api/im-approval';

function clientAnswering(status: number, body?: unknown) {
  const fetch = jest.fn(
    async (_url: string, _init?: RequestInit) =>
      new Response(body === undefined ? null : JSON.stringify(body), {
        status,
        headers: { 'content-type': 'application/json' },
      }),
  );
  const client = new ImApprovalClient({
    discoveryApi: {
      getBaseUrl: async pluginId => `http://backstage.test/api/${pluginId}`,
    },
    fetchApi: { fetch: fetch as typeof globalThis.fetch },
  });
  return { client, fetch };
}

describe('ImApprovalClient', () => {
  it('sends the list filters as query parameters, leaving out the empty ones', async () => {
    const { client, fetch } = clientAnswering(200, {
      items: [],
      totalCount: 0,
      offset: 50,
      limit: 25,
    });
    await expect(
      client.listApprovals({
        status: 'pending',
        template: '',
        q: 'api',
        limit: 25,
        offset: 50,
      }),
    ).resolves.toEqual({
      items: [],
      totalCount: 0,
      offset: 50,
      limit: 25,
    });
    expect(fetch.mock.calls[0][0]).toBe(
      `${BASE}/approvals?status=pending&q=api&limit=25&offset=50`,
    );
  });

  it('posts a decision as JSON and surfaces the backend’s message when refused', async () => {
    const { client, fetch } = clientAnswering(409, {
      error: {
        name: 'ConflictError',
        message: 'The approval is already approved',
      },
      response: { statusCode: 409 },
    });
    const failure = await client
      .decideApproval('a b', { decision: 'rejected', comment: 'no' })
      .catch(e => e);
    // The backend's sentence is what the dialogs show.
    expect(errorMessage(failure)).toBe('The approval is already approved');
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe(`${BASE}/approvals/a%20b/decision`);
    expect(init).toMatchObject({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(JSON.parse(String(init!.body))).toEqual({
      decision: 'rejected',
      comment: 'no',
    });
  });

  it('posts settings not saved yet to the test route, and parses the result', async () => {
    const result = { ok: true, message: 'Connected', durationMs: 3 };
    const { client, fetch } = clientAnswering(200, result);
    const settings = {
      id: 'feishu-new',
      provider: 'feishu' as const,
      appId: 'cli_new',
      appSecret: 's3cret',
      initiator: 'bot',
      connectionMode: 'poll' as const,
    };
    await expect(client.testIntegrationSettings(settings)).resolves.toEqual(
      result,
    );
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe(`${BASE}/integrations/test`);
    expect(init).toMatchObject({ method: 'POST' });
    expect(JSON.parse(String(init!.body))).toEqual(settings);
  });

  it('posts to a template’s form route and parses the form the backend made', async () => {
    const made = {
      formId: 'A1B2',
      url: 'https://feishu.example/approval/A1B2',
      integration: 'feishu-ops',
      savedAt: '2025-01-02T10:00:00.000Z',
      checkedAt: '2025-01-02T10:00:00.000Z',
      drift: [],
    };
    const { client, fetch } = clientAnswering(200, made);
    await expect(client.saveTemplateForm('ship it')).resolves.toEqual(made);
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe(`${BASE}/templates/ship%20it/form`);
    expect(init).toMatchObject({ method: 'POST', body: undefined });
  });

  it('surfaces the sentence of a form the IM refused to make', async () => {
    const { client } = clientAnswering(502, {
      error: {
        name: 'ImApiError',
        message:
          'Feishu refused: the app lacks the approval:approval permission; grant it in the developer console',
      },
      request: { method: 'POST', url: '/templates/deploy/form' },
      response: { statusCode: 502 },
    });
    const failure = await client.saveTemplateForm('deploy').catch(e => e);
    expect(errorMessage(failure)).toBe(
      'Feishu refused: the app lacks the approval:approval permission; grant it in the developer console',
    );
  });

  it('rejects an answer that does not match the API schema', async () => {
    const { client } = clientAnswering(200, {
      items: [{ id: 'x' }],
      totalCount: 1,
      offset: 0,
      limit: 25,
    });
    await expect(client.listApprovals({})).rejects.toThrow(/status/);
  });

  it('accepts the empty answer of a delete', async () => {
    const { client, fetch } = clientAnswering(204);
    await expect(client.deleteTemplate('deploy')).resolves.toBeUndefined();
    expect(fetch.mock.calls[0][1]).toMatchObject({ method: 'DELETE' });
  });
});
