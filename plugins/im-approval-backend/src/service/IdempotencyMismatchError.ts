import { CustomErrorBase } from '@backstage/errors';

/**
 * A reused idempotency key with a request other than the one it opened: 422, as payment APIs answer
 * it. Returning the old approval instead would hand one request's decision to another.
 */
export class IdempotencyMismatchError extends CustomErrorBase {
  name = 'IdempotencyMismatchError' as const;
  readonly statusCode = 422;
}
