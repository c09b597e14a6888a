import { createBackend } from '@backstage/backend-defaults';
import { rootHttpRouterServiceFactory } from '@backstage/backend-defaults/rootHttpRouter';
import { holdApiUntilStarted } from './holdApiUntilStarted';

const backend = createBackend();

// Plugin paths are not answered (with an empty 404) before the plugins are mounted.
backend.add(
  rootHttpRouterServiceFactory({
    configure(context) {
      holdApiUntilStarted(context);
      context.applyDefaults();
    },
  }),
);

// Guest sign-in for the local app; a production backend adds its organisation's sign-in provider instead.
backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));

backend.add(import('@backstage/plugin-permission-backend'));
backend.add(
  import('@backstage/plugin-permission-backend-module-allow-all-policy'),
);
backend.add(import('@im-approval/plugin-im-approval-backend'));

backend.start();
