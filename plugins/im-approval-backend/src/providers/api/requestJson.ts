import { ImApiError } from '@im-approval/plugin-im-approval-node';
import { request } from 'undici';
import { z } from 'zod';

const TIMEOUT_MS = 10_000;

export interface JsonRequest {
  /** The IM's name and the operation, for error messages: "Could not reach DingTalk … to read an instance". */
  im: string;
  operation: string;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT';
  url: URL;
  headers?: Record<string, string>;
  body?: unknown;
}

/** The IM's own code and text in an error answer, whichever envelope it uses. */
const errorFieldsSchema = z.looseObject({
  code: z.union([z.number(), z.string()]).optional(),
  errcode: z.union([z.number(), z.string()]).optional(),
  msg: z.string().optional(),
  errmsg: z.string().optional(),
  message: z.string().optional(),
});

function errorDetail(json: unknown): string {
  const fields = errorFieldsSchema.safeParse(json).data;
  const code = fields?.code ?? fields?.errcode;
  const text = fields?.msg ?? fields?.errmsg ?? fields?.message;
  if (code === undefined && !text) return '';
  return code === undefined
    ? ` (${text})`
    : ` (code ${code}${text ? `: ${text}` : ''})`;
}

/**
 * An answer with a 5xx status: the IM (or a gateway before it) is failing, whatever its body says.
 * It is an outage, never a reason to doubt the app's settings, and is tried again later.
 */
function outage(call: JsonRequest, status: number, json?: unknown): ImApiError {
  return new ImApiError(
    'unavailable',
    `${call.im} answered HTTP ${status}${errorDetail(json)} when asked to ${call.operation}: an outage at ${call.im}, ` +
      "not a problem with the app's settings; retrying later",
  );
}

/**
 * One HTTP call to an IM's API with a JSON answer. Network failures, timeouts, 5xx answers and
 * answers that are not JSON become transient `ImApiError`s; the caller reads the IM's own error
 * fields of every other answer.
 */
export async function requestJson(
  call: JsonRequest,
): Promise<{ status: number; json: unknown }> {
  let response;
  try {
    response = await request(call.url, {
      method: call.method,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        accept: 'application/json',
        ...call.headers,
      },
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
    });
  } catch (error) {
    throw new ImApiError(
      'unavailable',
      `Could not reach ${call.im} at ${call.url.origin} to ${call.operation}: ${(error as Error).message}`,
    );
  }
  let text: string;
  try {
    text = await response.body.text();
  } catch (error) {
    throw new ImApiError(
      'unavailable',
      `${call.im} stopped answering at ${call.url.origin} when asked to ${call.operation}: ${(error as Error).message}; retrying later`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    if (response.statusCode >= 500) throw outage(call, response.statusCode);
    throw new ImApiError(
      'unavailable',
      `${call.im} answered with HTTP ${response.statusCode} and no JSON body when asked to ${call.operation}; retrying later`,
    );
  }
  if (response.statusCode >= 500) throw outage(call, response.statusCode, json);
  return { status: response.statusCode, json };
}

/** One call to an IM's API, before the client adds its base URL and token. */
export interface ApiCall {
  /** A name for the operation in error messages, e.g. "create an approval instance". */
  operation: string;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT';
  path: string;
  query?: Record<string, string>;
  body?: unknown;
}

/** A URL under an API base with query parameters. */
export function apiUrl(
  base: string,
  path: string,
  query: Record<string, string> = {},
): URL {
  const url = new URL(base + path);
  for (const [key, value] of Object.entries(query))
    url.searchParams.set(key, value);
  return url;
}
