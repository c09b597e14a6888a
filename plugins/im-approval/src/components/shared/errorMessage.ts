import { ResponseError } from '@backstage/errors';

/**
 * Answers a gateway gives when the backend behind it is down or restarting. The backend's own
 * 502/503 (an IM that refused, a missing secrets key) comes with Backstage's error body, which
 * names the request; a gateway's does not.
 */
const GATEWAY_STATUSES = new Set([502, 503, 504]);

function fromGateway(error: ResponseError): boolean {
  return GATEWAY_STATUSES.has(error.statusCode) && !error.body.request;
}

/** What kind of failure a request met, which decides what the page says and offers. */
export type RequestFailure =
  | { kind: 'unreachable'; message: string }
  | { kind: 'denied'; message: string }
  | { kind: 'refused'; message: string };

/** Sorts a failed request: the backend could not be reached, said no to this user, or refused the request. */
export function classifyFailure(error: Error): RequestFailure {
  if (error instanceof ResponseError) {
    const said = error.body.error.message || error.message;
    if (fromGateway(error)) {
      return {
        kind: 'unreachable',
        message:
          `cannot reach the IM approval backend: ${error.statusCode} ${error.response.statusText || said}`.trim(),
      };
    }
    if (error.statusCode === 401 || error.statusCode === 403) {
      return { kind: 'denied', message: said };
    }
    return { kind: 'refused', message: said };
  }
  // fetch rejects with a TypeError ("Failed to fetch", "NetworkError …") when no answer came at all.
  if (error instanceof TypeError) {
    return {
      kind: 'unreachable',
      message: `cannot reach the IM approval backend: ${error.message}`,
    };
  }
  return { kind: 'refused', message: error.message };
}

/** The sentence to show for a failure: the backend's own message when it sent one ("Invalid app secret…"). */
export function errorMessage(error: Error): string {
  return classifyFailure(error).message;
}
