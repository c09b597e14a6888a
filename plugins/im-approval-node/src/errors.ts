/**
 * What went wrong talking to an IM, in terms a person can act on.
 *
 * @public
 */
export type ImErrorKind =
  | 'credentials' // the app id/secret were refused
  | 'rate_limited' // the IM throttled us; retry later
  | 'not_found' // the form, instance or user does not exist (or is outside the app's scope)
  | 'invalid_request' // the IM refused the request's content
  | 'permission' // the app lacks a permission or the operation is not allowed
  | 'unavailable'; // network error or a 5xx: transient

/** @public */
export class ImApiError extends Error {
  readonly name = 'ImApiError';
  constructor(
    readonly kind: ImErrorKind,
    message: string,
    readonly code?: number | string,
  ) {
    super(message);
  }

  get transient(): boolean {
    return this.kind === 'rate_limited' || this.kind === 'unavailable';
  }
}

/**
 * A callback that fails verification: forged, tampered, stale or malformed. Nothing is applied.
 *
 * @public
 */
export class ImCallbackRejectedError extends Error {
  readonly name = 'ImCallbackRejectedError';
  constructor(
    readonly status: 400 | 401,
    message: string,
  ) {
    super(message);
  }
}
