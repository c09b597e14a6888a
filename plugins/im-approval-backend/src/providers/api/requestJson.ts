import { ImApiError } from '@im-approval/plugin-im-approval-node';
import { request } from 'undici';

const TIMEOUT_MS = 10_000;

export interface JsonRequest {
  /** The IM's name and the operation, for error messages: "Could not reach DingTalk … to read an instance". */
  im: string;
  operation: string;
  method: 'GET' | 'POST';
  url: URL;
  headers?: Record<string, string>;
  body?: unknown;
}

/**
 * One HTTP call to an IM's API with a JSON answer. Network failures, timeouts and answers that
 * are not JSON become transient `ImApiError`s; the caller reads the IM's own error fields.
 */
export async function requestJson(call: JsonRequest): Promise<{ status: number; json: unknown }> {
  let response;
  try {
    response = await request(call.url, {
      method: call.method,
      headers: { 'content-type': 'application/json; charset=utf-8', accept: 'application/json', ...call.headers },
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
    });
  } catch (error) {
    throw new ImApiError('unavailable', `Could not reach ${call.im} at ${call.url.origin} to ${call.operation}: ${(error as Error).message}`);
  }
  const text = await response.body.text();
  try {
    return { status: response.statusCode, json: JSON.parse(text) };
  } catch {
    throw new ImApiError('unavailable', `${call.im} answered with HTTP ${response.statusCode} and no JSON body when asked to ${call.operation}; retrying later`);
  }
}

/** One call to an IM's API, before the client adds its base URL and token. */
export interface ApiCall {
  /** A name for the operation in error messages, e.g. "create an approval instance". */
  operation: string;
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string>;
  body?: unknown;
}

/** A URL under an API base with query parameters. */
export function apiUrl(base: string, path: string, query: Record<string, string> = {}): URL {
  const url = new URL(base + path);
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  return url;
}
