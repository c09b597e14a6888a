import {
  approvalSchema,
  approvalWithTimelineSchema,
  describeZodError,
  errorResponseSchema,
  timelineEventTypeSchema,
  type Approval,
  type ApprovalWithTimeline,
  type CreateApprovalRequest,
} from '@im-approval/plugin-im-approval-common';
import type { z } from 'zod';
import { Backoff, sleep } from './backoff';
import type { Identity } from './identity';
import { untrusted } from './untrusted';

/** The im-approval plugin answered and refused: retrying the same request cannot help. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The backend could not be reached, or kept failing, until the request's deadline. */
export class BackendUnreachableError extends Error {}

/** No whole answer came back: refused, reset, or timed out. Worth retrying. */
class TransportError extends Error {}

export interface ApprovalsClientOptions {
  apiUrl: string;
  identity: Identity;
  /** Told about each transient failure and the retry that follows. */
  onRetry: (problem: string, delayMs: number) => void;
  backoff?: () => Backoff;
  now?: () => number;
  /** How long create, read and cancel keep retrying a backend that is down. Default 5 minutes. */
  callRetryMs?: number;
}

interface RequestOptions {
  body?: unknown;
  /** Give up retrying transient failures after this moment (epoch ms). */
  retryUntil: number;
  /** Per attempt; a long-poll's must outlast the server's wait. */
  timeoutMs: number;
}

/** Refusals that say "not now" rather than "no", from the plugin too. */
const RETRYABLE_REFUSALS = new Set([408, 425, 429]);
const REQUEST_TIMEOUT_MS = 30_000;
/** Added to a long-poll's server-side timeout before the client gives up on the attempt. */
const WAIT_GRACE_MS = 15_000;

/** The approvals API as the Action uses it, with retries that never open a second approval. */
export class ApprovalsClient {
  private readonly now: () => number;
  private readonly newBackoff: () => Backoff;
  private readonly callRetryMs: number;

  constructor(private readonly options: ApprovalsClientOptions) {
    this.now = options.now ?? Date.now;
    this.newBackoff =
      options.backoff ?? (() => new Backoff({ initialMs: 500, maxMs: 30_000 }));
    this.callRetryMs = options.callRetryMs ?? 5 * 60_000;
  }

  /** Safe to retry: the idempotency key makes a repeated create answer the same approval. */
  async create(
    request: CreateApprovalRequest,
  ): Promise<{ approval: Approval; created: boolean }> {
    const { status, body } = await this.send('POST', '/approvals', {
      body: request,
      ...this.call(),
    });
    return {
      approval: this.parse(approvalSchema, body),
      created: status === 201,
    };
  }

  async get(id: string): Promise<ApprovalWithTimeline> {
    const { body } = await this.send(
      'GET',
      `/approvals/${encodeURIComponent(id)}`,
      this.call(),
    );
    return this.parse(approvalWithTimelineSchema, knownEventsOnly(body));
  }

  /**
   * Answers as soon as the approval leaves `pending`, or after `seconds` with it still pending.
   * A backend that is down is retried until `retryUntil`: a wait outlives a single call.
   */
  async wait(
    id: string,
    seconds: number,
    retryUntil: number,
  ): Promise<Approval> {
    const { body } = await this.send(
      'GET',
      `/approvals/${encodeURIComponent(id)}/wait?timeout=${seconds}s`,
      {
        retryUntil,
        timeoutMs: seconds * 1000 + WAIT_GRACE_MS,
      },
    );
    return this.parse(approvalSchema, body);
  }

  async cancel(id: string, reason: string): Promise<Approval> {
    const { body } = await this.send(
      'POST',
      `/approvals/${encodeURIComponent(id)}/cancel`,
      { body: { reason }, ...this.call() },
    );
    return this.parse(approvalSchema, body);
  }

  private call() {
    return {
      retryUntil: this.now() + this.callRetryMs,
      timeoutMs: REQUEST_TIMEOUT_MS,
    };
  }

  private async send(
    method: string,
    path: string,
    options: RequestOptions,
  ): Promise<{ status: number; body: unknown }> {
    const backoff = this.newBackoff();
    let freshToken = false;
    for (;;) {
      const token = await this.options.identity.token({ fresh: freshToken });
      let problem: string;
      try {
        const { status, text } = await this.attempt(
          method,
          path,
          token,
          options,
        );
        if (status >= 200 && status < 300)
          return { status, body: parseJson(text) };
        // An OIDC token can expire between fetching and arriving; one fresh token settles it.
        if (
          status === 401 &&
          this.options.identity.kind === 'oidc' &&
          !freshToken
        ) {
          freshToken = true;
          continue;
        }
        const refusal = pluginRefusal(status, text);
        // Only the plugin's own 4xx refusal is final. Every other answer is retried until the
        // deadline, like a refused connection: the plugin's 5xx, and whatever does not come from
        // the plugin: the empty 404 of a Backstage that listens before the plugin is mounted, a
        // proxy's HTML page or 502.
        if (
          refusal !== undefined &&
          status < 500 &&
          !RETRYABLE_REFUSALS.has(status)
        ) {
          throw new ApiError(
            status,
            `Backstage answered ${status} to ${method} ${path}: ${untrusted(refusal)}`,
          );
        }
        problem = `Backstage answered ${status}: ${refusal === undefined ? notThePlugin(text) : untrusted(refusal)}`;
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        problem = `Backstage could not be reached (${untrusted(error.message)})`;
      }
      const delay = backoff.next();
      if (this.now() + delay > options.retryUntil) {
        throw new BackendUnreachableError(
          `${problem}; gave up retrying ${method} ${path}`,
        );
      }
      this.options.onRetry(problem, delay);
      await sleep(delay);
    }
  }

  /** One HTTP exchange; a failure to get a whole answer is a `TransportError`. */
  private async attempt(
    method: string,
    path: string,
    token: string,
    options: RequestOptions,
  ) {
    try {
      const response = await fetch(`${this.options.apiUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(options.body === undefined
            ? {}
            : { 'content-type': 'application/json' }),
        },
        body:
          options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      return { status: response.status, text: await response.text() };
    } catch (error) {
      throw new TransportError(describeTransportError(error));
    }
  }

  private parse<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
    const result = schema.safeParse(body);
    if (!result.success) {
      throw new Error(
        `Backstage answered something that is not an approval (is backstage-url right?): ${untrusted(describeZodError(result.error))}`,
      );
    }
    return result.data;
  }
}

/**
 * The approval with only the timeline events this Action knows: a newer backend's new kinds of
 * event (reminders, say) tell the Action nothing it acts on, and must not make it fail.
 */
function knownEventsOnly(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || !('timeline' in body))
    return body;
  const { timeline } = body;
  if (!Array.isArray(timeline)) return body;
  return {
    ...body,
    timeline: timeline.filter(
      event =>
        typeof event !== 'object' ||
        event === null ||
        timelineEventTypeSchema.safeParse(event.type).success,
    ),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The plugin's message, when the answer is Backstage's error body sent with this status; else undefined. */
function pluginRefusal(status: number, text: string): string | undefined {
  const parsed = errorResponseSchema.safeParse(parseJson(text));
  return parsed.success && parsed.data.response.statusCode === status
    ? parsed.data.error.message
    : undefined;
}

/** An answer that is not the plugin's, described by the start of what came. */
function notThePlugin(text: string): string {
  const start = text.trim().slice(0, 200);
  const what = start
    ? `"${untrusted(start)}${text.trim().length > 200 ? '…' : ''}"`
    : 'an empty body';
  return `${what}, not the im-approval plugin's answer (is the backend starting, or backstage-url wrong?)`;
}

/** fetch rejects with a TypeError whose cause names the network failure, or a DOMException on timeout. */
function describeTransportError(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError')
    return 'no answer in time';
  const cause = (error as { cause?: { code?: string; message?: string } })
    .cause;
  return (
    cause?.code ?? cause?.message ?? String((error as Error).message ?? error)
  );
}
