import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();

// Guest sign-in for the local app; a production backend adds its organisation's sign-in provider instead.
backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));

backend.add(import('@backstage/plugin-permission-backend'));
backend.add(import('@backstage/plugin-permission-backend-module-allow-all-policy'));
backend.add(import('@im-approval/plugin-im-approval-backend'));

backend.start();
