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
// The organisation (examples/org.yaml) and its components: approvers by user and group, requesters by GitHub login.
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(
  import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'),
);
backend.add(import('@backstage/plugin-scaffolder-backend'));
backend.add(
  import('@im-approval/plugin-scaffolder-backend-module-im-approval'),
);
backend.add(import('@backstage/plugin-notifications-backend'));
backend.add(import('@backstage/plugin-signals-backend'));
// Carries signals between replicas (through the database on PostgreSQL).
backend.add(import('@backstage/plugin-events-backend'));
backend.add(import('@im-approval/plugin-im-approval-backend'));

backend.start();
