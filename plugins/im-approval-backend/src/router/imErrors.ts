import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import { ImApiError } from '@im-approval/plugin-im-approval-node';

/** The IM failed or could not be reached: a 502 whose message says what happened. */
export class ImRequestFailedError extends Error {
  readonly name = 'ImRequestFailedError';
  /** Read by Backstage's error handler. */
  readonly statusCode = 502;
}

/** Runs a call to the IM for a person in the UI, turning IM errors into HTTP errors they can act on. */
export async function askIm<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof ImApiError)) throw error;
    if (error.kind === 'not_found') throw new NotFoundError(error.message);
    if (error.kind === 'invalid_request') throw new InputError(error.message);
    // The IM app's own settings refuse it: something to fix in the IM's console, not a gateway fault.
    if (error.kind === 'permission' || error.kind === 'credentials')
      throw new ConflictError(error.message);
    throw new ImRequestFailedError(error.message);
  }
}
