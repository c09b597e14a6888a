import { InputError } from '@backstage/errors';
import type { NextFunction, Request, Response } from 'express';

const NUL = '\u0000';

/** The path of the first string in `value` that holds U+0000, e.g. `body.context.ref`; iterative, so no nesting overflows it. */
export function unstorableTextIn(value: unknown, path: string): string | undefined {
  const pending: Array<[unknown, string]> = [[value, path]];
  while (pending.length > 0) {
    const [item, where] = pending.pop()!;
    if (typeof item === 'string') {
      if (item.includes(NUL)) return where;
    } else if (item !== null && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) {
        if (key.includes(NUL)) return `${where}.${key.replaceAll(NUL, '\\0')}`;
        pending.push([child, `${where}.${key}`]);
      }
    }
  }
  return undefined;
}

function decodedPath(request: Request): string {
  try {
    return decodeURIComponent(request.path);
  } catch {
    return request.path; // Express itself answers 400 for a malformed escape
  }
}

/**
 * Refuses, for every route at once, text that PostgreSQL cannot store (U+0000) in the path, the
 * query or the JSON body, with a 400 naming where it is: no route's own validation can forget it,
 * and nothing is read or written with it.
 */
export function refuseUnstorableText(parts: Array<'path' | 'query' | 'body'>) {
  return (request: Request, _response: Response, next: NextFunction) => {
    for (const part of parts) {
      const value = part === 'path' ? decodedPath(request) : request[part];
      const where = unstorableTextIn(value, part);
      if (where) {
        next(new InputError(`${where}: must not contain the NUL character (U+0000)`));
        return;
      }
    }
    next();
  };
}
