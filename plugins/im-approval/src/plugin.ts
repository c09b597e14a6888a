import {
  createPlugin,
  createRoutableExtension,
} from '@backstage/core-plugin-api';
import { imApprovalApiFactory } from './api/apiFactory';
import { rootRouteRef } from './routes';

/**
 * The plugin for apps on the legacy frontend system; see `./alpha` for the new one.
 *
 * @public
 */
export const imApprovalPlugin = createPlugin({
  id: 'im-approval',
  apis: [imApprovalApiFactory],
  routes: { root: rootRouteRef },
});

/**
 * Mount with `<Route path="/im-approval" element={<ImApprovalPage />} />`.
 *
 * @public
 */
export const ImApprovalPage = imApprovalPlugin.provide(
  createRoutableExtension({
    name: 'ImApprovalPage',
    component: () =>
      import('./components/ImApprovalPage').then(m => m.ImApprovalPage),
    mountPoint: rootRouteRef,
  }),
);
