import {
  InfoCard,
  Link,
  MissingAnnotationEmptyState,
  Progress,
  Table,
  type TableColumn,
} from '@backstage/core-components';
import {
  approvalPagePath,
  type Approval,
} from '@im-approval/plugin-im-approval-common';
import Typography from '@material-ui/core/Typography';
import { approvalColumns } from '../approvals/approvalColumns';
import { RequestFailed } from '../shared/RequestFailed';
import { TABLE_OPTIONS } from '../shared/tableOptions';
import {
  PROJECT_SLUG_ANNOTATION,
  useEntityApprovals,
} from './useEntityApprovals';

const columns: TableColumn<Approval>[] = [
  approvalColumns.status,
  {
    title: 'Title',
    field: 'title',
    render: row => <Link to={approvalPagePath(row.id)}>{row.title}</Link>,
  },
  approvalColumns.requester,
  approvalColumns.requested,
  approvalColumns.decidedBy,
];

function ApprovalsOfRepository(props: {
  decidedLimit: number;
  title: string;
  paging: boolean;
}) {
  const { repository, value, loading, error, retry } = useEntityApprovals(
    props.decidedLimit,
  );
  if (!repository)
    return <MissingAnnotationEmptyState annotation={PROJECT_SLUG_ANNOTATION} />;
  if (error) {
    return (
      <RequestFailed
        error={error}
        what={`read the approvals of ${repository}`}
        onRetry={retry}
      />
    );
  }
  if (loading && !value) return <Progress />;
  return (
    <Table<Approval>
      title={props.title}
      subtitle={repository}
      columns={columns}
      data={value ?? []}
      options={{
        ...TABLE_OPTIONS,
        search: false,
        paging: props.paging,
        pageSize: 10,
        toolbar: true,
      }}
      emptyContent={
        <Typography style={{ padding: 16 }}>
          No approvals for {repository} yet.
        </Typography>
      }
    />
  );
}

/**
 * The approvals of a component's repository (its `github.com/project-slug`), pending first, for
 * the entity overview.
 *
 * @public
 */
export function EntityImApprovalsCard() {
  return (
    <InfoCard title="IM approvals" noPadding>
      <ApprovalsOfRepository
        decidedLimit={5}
        title="Pending and latest"
        paging={false}
      />
    </InfoCard>
  );
}

/**
 * The same for an entity tab: every pending approval and the latest decided ones, with paging.
 *
 * @public
 */
export function EntityImApprovalsContent() {
  return (
    <ApprovalsOfRepository decidedLimit={50} title="IM approvals" paging />
  );
}
