import { SignInPage } from '@backstage/core-components';
import { createApp } from '@backstage/frontend-defaults';
import {
  createFrontendModule,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';
import { SignInPageBlueprint } from '@backstage/plugin-app-react';
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

/** The app has one plugin, so its home is that plugin's page. */
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
    createFrontendModule({
      pluginId: 'app',
      extensions: [signInPage, homePage],
    }),
  ],
});
