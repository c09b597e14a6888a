import {
  createApiFactory,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { imApprovalApiRef } from './ImApprovalApi';
import { ImApprovalClient } from './ImApprovalClient';

/** The client with the app's discovery and fetch APIs; both frontend systems register this one factory. */
export const imApprovalApiFactory = createApiFactory({
  api: imApprovalApiRef,
  deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
  factory: deps => new ImApprovalClient(deps),
});
