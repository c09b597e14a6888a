import { CustomErrorBase } from '@backstage/errors';
import type { ErrorRequestHandler, Request, Router } from 'express';

/** A request body the JSON parser refused, named as `body` like every other 4xx about a field. */
class RequestBodyError extends CustomErrorBase {
  name = 'InputError' as const;
  constructor(
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
  }
}

const BODY_PROBLEMS: Record<string, string> = {
  'entity.parse.failed': 'expected a JSON object',
  'entity.too.large': 'too large',
  'encoding.unsupported': 'unsupported content encoding',
  'charset.unsupported': 'expected UTF-8 JSON',
  'request.size.invalid': 'shorter than its Content-Length',
  'request.aborted': 'the request ended before its body',
};

interface Layer {
  route?: unknown;
  regexp: RegExp;
  keys: Array<{ name: string }>;
  handle: { stack?: Layer[] };
}

/** The name of the path parameter whose percent-encoding does not decode, found among the router's routes. */
function undecodableParam(stack: Layer[], path: string): string | undefined {
  for (const layer of stack) {
    if (!layer.route) {
      const found =
        layer.handle.stack && undecodableParam(layer.handle.stack, path);
      if (found) return found;
      continue;
    }
    const match = layer.regexp.exec(path);
    if (!match) continue;
    for (const [index, key] of layer.keys.entries()) {
      try {
        decodeURIComponent(match[index + 1] ?? '');
      } catch {
        return key.name;
      }
    }
  }
  return undefined;
}

/**
 * Errors Express and its body parser raise before a route runs, rewritten to name where the
 * request is wrong (`body: expected a JSON object`, `path.id: malformed percent-encoding`).
 */
export function namedRequestErrors(router: Router): ErrorRequestHandler {
  return (error, req: Request, _res, next) => {
    const { type, code, status } = error as {
      type?: string;
      code?: string;
      status?: number;
    };
    const problem =
      (type && BODY_PROBLEMS[type]) ??
      (code?.startsWith('Z_')
        ? 'does not decompress as its Content-Encoding says'
        : undefined);
    if (problem) {
      next(
        new RequestBodyError(
          `body: ${problem} (${(error as Error).message})`,
          Number(status) || 400,
        ),
      );
      return;
    }
    if (
      error instanceof URIError ||
      /^Failed to decode param/.test(String((error as Error)?.message))
    ) {
      const param = undecodableParam(
        router.stack as unknown as Layer[],
        req.path,
      );
      next(
        new RequestBodyError(
          `path${param ? `.${param}` : ''}: malformed percent-encoding`,
          400,
        ),
      );
      return;
    }
    next(error);
  };
}
