import { ResponseError } from '@backstage/errors';

/** The sentence to show for a failure: the backend's own message when it sent one ("Invalid app secret…"). */
export function errorMessage(error: Error): string {
  return error instanceof ResponseError
    ? error.body.error.message || error.message
    : error.message;
}
