import {
  ApiBlueprint,
  createFrontendPlugin,
  createRouteRef,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import { CATALOG_ANNOTATIONS } from '@im-approval/plugin-im-approval-common';
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

/** Components whose repository (`github.com/project-slug`) asks for approvals. */
const HAS_REPOSITORY = (entity: {
  kind: string;
  metadata: { annotations?: Record<string, string> };
}) =>
  entity.kind.toLocaleLowerCase('en-US') === 'component' &&
  Boolean(entity.metadata.annotations?.[CATALOG_ANNOTATIONS.projectSlug]);

const entityApprovalsCard = EntityCardBlueprint.make({
  name: 'approvals',
  params: {
    filter: HAS_REPOSITORY,
    loader: () =>
      import('./components/entity/EntityApprovals').then(m => (
        <m.EntityImApprovalsCard />
      )),
  },
});

const entityApprovalsContent = EntityContentBlueprint.make({
  name: 'approvals',
  params: {
    path: '/im-approvals',
    title: 'IM approvals',
    filter: HAS_REPOSITORY,
    loader: () =>
      import('./components/entity/EntityApprovals').then(m => (
        <m.EntityImApprovalsContent />
      )),
  },
});

/**
 * The plugin for apps on the new frontend system: its page, and on component pages a card and a
 * tab with the approvals of the component's repository.
 *
 * @alpha
 */
export default createFrontendPlugin({
  pluginId: 'im-approval',
  title: 'IM approvals',
  icon: <AssignmentTurnedInIcon />,
  extensions: [
    imApprovalApi,
    imApprovalPage,
    entityApprovalsCard,
    entityApprovalsContent,
  ],
  routes: { root: rootRouteRef },
});
