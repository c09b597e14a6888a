import {
  ApiBlueprint,
  createFrontendPlugin,
  createRouteRef,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';
import AssignmentTurnedInIcon from '@material-ui/icons/AssignmentTurnedIn';
import { imApprovalApiFactory } from './api/apiFactory';

const rootRouteRef = createRouteRef();

const imApprovalApi = ApiBlueprint.make({
  params: defineParams => defineParams(imApprovalApiFactory),
});

/** The page, with a title and icon: the app's sidebar lists it from these. */
const imApprovalPage = PageBlueprint.make({
  params: {
    path: '/im-approval',
    title: 'IM approvals',
    icon: <AssignmentTurnedInIcon />,
    routeRef: rootRouteRef,
    // The page brings its own header with the Approvals / IM apps / Templates tabs.
    noHeader: true,
    loader: () =>
      import('./components/ImApprovalPage').then(m => <m.ImApprovalPage />),
  },
});

/**
 * The plugin for apps on the new frontend system.
 *
 * @alpha
 */
export default createFrontendPlugin({
  pluginId: 'im-approval',
  title: 'IM approvals',
  icon: <AssignmentTurnedInIcon />,
  extensions: [imApprovalApi, imApprovalPage],
  routes: { root: rootRouteRef },
});
