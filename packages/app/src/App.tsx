import { SignInPage } from '@backstage/core-components';
import { createApp } from '@backstage/frontend-defaults';
import {
  createFrontendModule,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';
import { SignInPageBlueprint } from '@backstage/plugin-app-react';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import notificationsPlugin from '@backstage/plugin-notifications/alpha';
import scaffolderPlugin from '@backstage/plugin-scaffolder/alpha';
import signalsPlugin from '@backstage/plugin-signals/alpha';
import imApprovalPlugin from '@im-approval/plugin-im-approval/alpha';
import { Navigate } from 'react-router-dom';

/** Guest sign-in: the backend's guest provider gives a user token (development only). */
const signInPage = SignInPageBlueprint.make({
  params: {
    loader: async () => props => (
      <SignInPage {...props} providers={['guest']} />
    ),
  },
});

/** Home is the approvals page; the catalog (with each component's approvals), notifications and templates sit beside it. */
const homePage = PageBlueprint.make({
  name: 'home',
  params: {
    path: '/',
    loader: async () => <Navigate to="/im-approval" replace />,
  },
});

export default createApp({
  features: [
    imApprovalPlugin,
    catalogPlugin,
    scaffolderPlugin,
    notificationsPlugin,
    signalsPlugin,
    createFrontendModule({
      pluginId: 'app',
      extensions: [signInPage, homePage],
    }),
  ],
});
