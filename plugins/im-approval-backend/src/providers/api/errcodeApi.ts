import type { ImErrorKind } from '@im-approval/plugin-im-approval-node';
import { z } from 'zod';
import type { AccessToken } from './AccessToken';
import type { ImApiErrors } from './ImApiErrors';
import { requestJson, type JsonRequest } from './requestJson';

const envelopeSchema = z.looseObject({
  errcode: z.number().optional().default(0),
  errmsg: z.string().optional().default(''),
});

/** An answer of an API that reports errors as `{errcode, errmsg}` (WeCom, DingTalk's legacy API). */
export interface ErrcodeAnswer {
  errcode: number;
  errmsg: string;
  json: unknown;
}

export async function requestErrcodeJson(
  call: JsonRequest,
  errors: ImApiErrors,
): Promise<ErrcodeAnswer> {
  const { status, json } = await requestJson(call);
  const envelope = envelopeSchema.safeParse(json);
  // (5xx answers are outages, thrown by requestJson.)
  if (!envelope.success)
    throw errors.of(
      'unavailable',
      call.operation,
      undefined,
      `HTTP ${status} without an errcode`,
    );
  return { errcode: envelope.data.errcode, errmsg: envelope.data.errmsg, json };
}

/** The body of a successful answer parsed with `schema`, else the error its errcode means. */
export function errcodeResult<T extends z.ZodType>(
  answer: ErrcodeAnswer,
  schema: T,
  operation: string,
  errors: ImApiErrors,
  kindOf: (errcode: number) => ImErrorKind,
  advice: Record<number, string> = {},
): z.output<T> {
  const { errcode, errmsg } = answer;
  if (errcode !== 0)
    throw errors.of(
      kindOf(errcode),
      operation,
      errcode,
      advice[errcode] ? `${errmsg}; ${advice[errcode]}` : errmsg,
    );
  const body = schema.safeParse(answer.json);
  if (!body.success)
    throw errors.unexpectedShape(operation, body.error.issues[0]);
  return body.data;
}

/**
 * One call to an errcode API with the app's token: fetched again once when the IM refuses it
 * (one of `invalidToken`), then the body parsed with `schema` or the error its errcode means.
 */
export async function callWithToken<T extends z.ZodType>(call: {
  token: AccessToken;
  send(token: string): Promise<ErrcodeAnswer>;
  invalidToken: ReadonlySet<number>;
  operation: string;
  schema: T;
  errors: ImApiErrors;
  kindOf: (errcode: number) => ImErrorKind;
  advice?: Record<number, string>;
}): Promise<z.output<T>> {
  const answer = await call.token.use(call.send, ({ errcode }) =>
    call.invalidToken.has(errcode),
  );
  if (call.invalidToken.has(answer.errcode))
    throw call.errors.tokenRefusedAgain(
      call.operation,
      answer.errcode,
      answer.errmsg,
    );
  return errcodeResult(
    answer,
    call.schema,
    call.operation,
    call.errors,
    call.kindOf,
    call.advice,
  );
}
