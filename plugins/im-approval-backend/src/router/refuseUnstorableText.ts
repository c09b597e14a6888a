import { InputError } from '@backstage/errors';
import { NUL_MESSAGE, nulPathIn } from '@im-approval/plugin-im-approval-common';
import type { NextFunction, Request, Response } from 'express';

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
      const path = nulPathIn(
        part === 'path' ? decodedPath(request) : request[part],
      );
      if (path) {
        next(new InputError(`${[part, ...path].join('.')}: ${NUL_MESSAGE}`));
        return;
      }
    }
    next();
  };
}
