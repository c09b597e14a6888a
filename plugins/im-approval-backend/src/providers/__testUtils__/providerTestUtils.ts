import {
  ImApiError,
  ImCallbackRejectedError,
} from '@im-approval/plugin-im-approval-node';
import nock from 'nock';

/** The rejection a callback handler throws; fails the test when it accepts the callback. */
export function callbackRejection(run: () => unknown): ImCallbackRejectedError {
  try {
    run();
  } catch (error) {
    if (error instanceof ImCallbackRejectedError) return error;
    throw error;
  }
  throw new Error('expected the callback to be rejected');
}

/** The `ImApiError` a client call fails with; fails the test when it succeeds. */
export async function imApiError(
  promise: Promise<unknown>,
): Promise<ImApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ImApiError) return error;
    throw error;
  }
  throw new Error('expected an ImApiError');
}

/** No real network in a client's tests, and every interceptor a test sets up must have been used. */
export function useNock(): void {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => {
    const unused = nock.pendingMocks();
    nock.cleanAll();
    expect(unused).toEqual([]);
  });
  afterAll(() => {
    nock.enableNetConnect();
    // Other test files load their own nock; leave undici unpatched for them.
    nock.restore();
  });
}
