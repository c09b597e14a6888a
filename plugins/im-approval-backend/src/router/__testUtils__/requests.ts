import { mockCredentials } from '@backstage/backend-test-utils';
import type { Server } from 'node:http';
import request from 'supertest';
import { API, USER_WITH_ALL } from './apiHarness';

/** Percent-encodes text for a URL, lone surrogates too (as the WTF-8 bytes a careless client sends). */
export function encodeText(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    let out = '';
    for (const char of text) {
      const unit = char.charCodeAt(0);
      if (char.length === 1 && unit >= 0xd800 && unit <= 0xdfff) {
        out += [
          0xe0 | (unit >> 12),
          0x80 | ((unit >> 6) & 0x3f),
          0x80 | (unit & 0x3f),
        ]
          .map(b => `%${b.toString(16).toUpperCase()}`)
          .join('');
      } else {
        out += encodeURIComponent(char);
      }
    }
    return out;
  }
}

export interface RawRequest {
  method: string;
  /** After `/api/im-approval`, encoded, with its query. */
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** The client gives up after this long; a long poll that is still waiting is not an error. */
  deadlineMs?: number;
}

export interface RawResponse {
  status: number;
  body: any;
  text: string;
  /** The client gave up waiting. */
  timedOut?: boolean;
  /** The server closed the connection without an answer the client could read (Node does for a URL over its header limit, Express for a body over its limit). */
  reset?: boolean;
}

export async function send(
  server: Server,
  raw: RawRequest,
): Promise<RawResponse> {
  let call = (request(server) as any)[raw.method.toLowerCase()](
    `${API}${raw.url}`,
  ) as request.Test;
  for (const [name, value] of Object.entries(raw.headers ?? {}))
    call = call.set(name, value);
  if (raw.body !== undefined) call = call.send(raw.body);
  call = call.timeout({ deadline: raw.deadlineMs ?? 20_000 });
  try {
    const response = await call;
    return {
      status: response.status,
      body: response.body,
      text: response.text,
    };
  } catch (error) {
    if ((error as { timeout?: number }).timeout)
      return { status: 0, body: undefined, text: '', timedOut: true };
    if (
      ['ECONNRESET', 'EPIPE'].includes((error as { code?: string }).code ?? '')
    )
      return { status: 0, body: undefined, text: '', reset: true };
    throw error;
  }
}

export type CallerKind = 'none' | 'garbage' | 'service' | 'user' | 'workflow';

/** The Authorization header of each kind of caller the fuzz sends as. */
export function authorizationOf(
  kind: CallerKind,
  workflowToken: string,
): Record<string, string> {
  switch (kind) {
    case 'none':
      return {};
    case 'garbage':
      return { authorization: 'Bearer not-a-token' };
    case 'service':
      return { authorization: mockCredentials.service.header() };
    case 'user':
      return { authorization: mockCredentials.user.header(USER_WITH_ALL) };
    case 'workflow':
      return { authorization: `Bearer ${workflowToken}` };
    default:
      throw new Error(`unknown caller ${kind}`);
  }
}

/** One line for a failure message: what was sent, and what came back. */
export function describeExchange(
  raw: RawRequest,
  response: RawResponse,
  caller: string,
): string {
  const body =
    raw.body === undefined ? '' : ` body ${truncate(String(raw.body))}`;
  return `${raw.method.toUpperCase()} ${truncate(raw.url)} as ${caller}${body} → ${describeAnswer(response)}`;
}

function describeAnswer(response: RawResponse): string {
  if (response.timedOut) return 'no answer in time';
  if (response.reset) return 'connection reset';
  return `${response.status} ${truncate(response.text)}`;
}

export function truncate(text: string, length = 300): string {
  const shown = JSON.stringify(text).slice(1, -1);
  return shown.length > length
    ? `${shown.slice(0, length)}… (${text.length} chars)`
    : shown;
}
