import {
  createApiFactory,
  createPlugin,
  createRoutableExtension,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { imApprovalApiRef } from './api/ImApprovalApi';
import { ImApprovalClient } from './api/ImApprovalClient';
import { rootRouteRef } from './routes';

/** The plugin for apps on the legacy frontend system; see `./alpha` for the new one. */
export const imApprovalPlugin = createPlugin({
  id: 'im-approval',
  apis: [
    createApiFactory({
      api: imApprovalApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: deps => new ImApprovalClient(deps),
    }),
  ],
  routes: { root: rootRouteRef },
});

/** Mount with `<Route path="/im-approval" element={<ImApprovalPage />} />`. */
export const ImApprovalPage = imApprovalPlugin.provide(
  createRoutableExtension({
    name: 'ImApprovalPage',
    component: () => import('./components/ImApprovalPage').then(m => m.ImApprovalPage),
    mountPoint: rootRouteRef,
  }),
);
