import {
  createComponentExtension,
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

/**
 * For a component's overview: the approvals of its repository (`github.com/project-slug`), pending first.
 *
 * @public
 */
export const EntityImApprovalsCard: () => JSX.Element =
  imApprovalPlugin.provide(
    createComponentExtension({
      name: 'EntityImApprovalsCard',
      component: {
        lazy: () =>
          import('./components/entity/EntityApprovals').then(
            m => m.EntityImApprovalsCard,
          ),
      },
    }),
  );

/**
 * For a component's tab: every pending approval of its repository and the latest decided ones.
 *
 * @public
 */
export const EntityImApprovalsContent: () => JSX.Element =
  imApprovalPlugin.provide(
    createComponentExtension({
      name: 'EntityImApprovalsContent',
      component: {
        lazy: () =>
          import('./components/entity/EntityApprovals').then(
            m => m.EntityImApprovalsContent,
          ),
      },
    }),
  );
