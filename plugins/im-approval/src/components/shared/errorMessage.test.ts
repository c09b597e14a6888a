import { ResponseError } from '@backstage/errors';
import { classifyFailure } from './errorMessage';

/** An HTTP answer as fetch gives it, for ResponseError.fromResponse. */
function answer(status: number, statusText: string, body: string, json = true) {
  return {
    status,
    statusText,
    headers: new Headers({
      'content-type': json ? 'application/json; charset=utf-8' : 'text/html',
    }),
    text: async () => body,
  } as unknown as Response;
}

/** The body Backstage's error handler sends, which names the request. */
function backstageError(statusCode: number, message: string) {
  return JSON.stringify({
    error: { name: 'ServiceUnavailableError', message },
    request: { method: 'POST', url: '/api/im-approval/integrations' },
    response: { statusCode },
  });
}

describe('classifyFailure', () => {
  it('takes a fetch that got no answer as an unreachable backend', () => {
    expect(classifyFailure(new TypeError('Failed to fetch'))).toEqual({
      kind: 'unreachable',
      message: 'cannot reach the IM approval backend: Failed to fetch',
    });
  });

  it("takes a gateway's 502, 503 or 504 as an unreachable backend", async () => {
    for (const [status, text] of [
      [502, 'Bad Gateway'],
      [503, 'Service Unavailable'],
      [504, 'Gateway Timeout'],
    ] as const) {
      const error = await ResponseError.fromResponse(
        answer(status, text, '<html>upstream down</html>', false),
      );
      expect(classifyFailure(error)).toEqual({
        kind: 'unreachable',
        message: `cannot reach the IM approval backend: ${status} ${text}`,
      });
    }
  });

  it("keeps the backend's own 503 in its words: the backend answered", async () => {
    const error = await ResponseError.fromResponse(
      answer(
        503,
        'Service Unavailable',
        backstageError(503, 'Set imApproval.secretsKey to store IM apps'),
      ),
    );
    expect(classifyFailure(error)).toEqual({
      kind: 'refused',
      message: 'Set imApproval.secretsKey to store IM apps',
    });
  });

  it('names a refusal of this user as denied, in the backend’s words', async () => {
    const error = await ResponseError.fromResponse(
      answer(
        403,
        'Forbidden',
        backstageError(403, 'lacks im-approval.integration.manage'),
      ),
    );
    expect(classifyFailure(error)).toEqual({
      kind: 'denied',
      message: 'lacks im-approval.integration.manage',
    });
  });
});
