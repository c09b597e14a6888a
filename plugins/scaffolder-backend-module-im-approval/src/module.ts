import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { createRequestApprovalAction } from './actions/requestApproval';

/**
 * Adds `im-approval:request` to the scaffolder: a software template step that waits for an IM approval.
 *
 * @public
 */
export const scaffolderModuleImApproval = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'im-approval',
  register(env) {
    env.registerInit({
      deps: {
        scaffolder: scaffolderActionsExtensionPoint,
        discovery: coreServices.discovery,
        auth: coreServices.auth,
      },
      async init({ scaffolder, discovery, auth }) {
        scaffolder.addActions(createRequestApprovalAction({ discovery, auth }));
      },
    });
  },
});
