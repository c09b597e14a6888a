import {
  Link,
  ResponseErrorPanel,
  Table,
  type TableColumn,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  approvalStatusSchema,
  type Approval,
  type ApprovalStatus as Status,
} from '@im-approval/plugin-im-approval-common';
import Grid from '@material-ui/core/Grid';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import { useRef, useState } from 'react';
import { useDebounce } from 'react-use';
import {
  imApprovalApiRef,
  type ApprovalsFilter,
} from '../../api/ImApprovalApi';
import { usePluginLink } from '../shared/basePath';
import { formatAge } from '../shared/time';
import { useApprovalChanges } from '../shared/useApprovalChanges';
import { approvalColumns } from './approvalColumns';

const PAGE_SIZE = 25;

type Filters = {
  status: Status | '';
  template: string;
  repository: string;
  mine: '' | 'requested' | 'waiting';
};

/** The approvals, newest first, filtered and paged by the backend. */
export function ApprovalsList() {
  const api = useApi(imApprovalApiRef);
  const link = usePluginLink();
  const [filters, setFilters] = useState<Filters>({
    status: '',
    template: '',
    repository: '',
    mine: '',
  });
  // Typing in a text filter asks the backend once the user pauses, not on every key.
  const [applied, setApplied] = useState(filters);
  useDebounce(() => setApplied(filters), 300, [filters]);
  const [error, setError] = useState<Error>();
  // The table keeps its search text to itself; the empty message needs to know whether there was one.
  const [searched, setSearched] = useState(false);
  // The page shown is read again whenever an approval changes: a new one, or one decided.
  const table = useRef<{ onQueryChange(): void }>();
  useApprovalChanges(() => table.current?.onQueryChange());

  const columns: TableColumn<Approval>[] = [
    approvalColumns.status,
    {
      title: 'Title',
      field: 'title',
      render: row => <Link to={link(`approvals/${row.id}`)}>{row.title}</Link>,
    },
    { title: 'Repository', field: 'context.repository' },
    { title: 'Template', field: 'template' },
    approvalColumns.requested,
    approvalColumns.decidedBy,
    {
      title: 'Age',
      field: 'decidedAt',
      render: row => formatAge(row.createdAt, row.decidedAt),
    },
  ];

  const load = async (query: {
    page: number;
    pageSize: number;
    search: string;
  }) => {
    const filter: ApprovalsFilter = {
      q: query.search.trim() || undefined,
      status: applied.status || undefined,
      template: applied.template.trim() || undefined,
      repository: applied.repository.trim() || undefined,
      mine: applied.mine || undefined,
      limit: query.pageSize,
      offset: query.page * query.pageSize,
    };
    setSearched(filter.q !== undefined);
    try {
      const page = await api.listApprovals(filter);
      setError(undefined);
      return {
        data: page.items,
        page: query.page,
        totalCount: page.totalCount,
      };
    } catch (e) {
      setError(e as Error);
      return { data: [], page: 0, totalCount: 0 };
    }
  };

  /** The props every filter input shares: its id, look, value and how it updates the filters. */
  const filterInput = (key: keyof Filters, label: string) => ({
    id: `approvals-${key}`,
    fullWidth: true,
    variant: 'outlined' as const,
    size: 'small' as const,
    label,
    value: filters[key],
    onChange: (event: { target: { value: unknown } }) =>
      setFilters(current => ({
        ...current,
        [key]: String(event.target.value),
      })),
  });

  return (
    <Grid container spacing={2}>
      <Grid item xs={12} md={3}>
        <TextField
          select
          SelectProps={{ displayEmpty: true }}
          InputLabelProps={{ shrink: true }}
          {...filterInput('mine', 'Whose')}
        >
          <MenuItem value="">Everyone's</MenuItem>
          <MenuItem value="requested">Requested by me</MenuItem>
          <MenuItem value="waiting">Waiting on me</MenuItem>
        </TextField>
      </Grid>
      <Grid item xs={12} md={3}>
        <TextField
          select
          SelectProps={{ displayEmpty: true }}
          InputLabelProps={{ shrink: true }}
          {...filterInput('status', 'Status')}
        >
          <MenuItem value="">Any status</MenuItem>
          {approvalStatusSchema.options.map(status => (
            <MenuItem key={status} value={status}>
              {status}
            </MenuItem>
          ))}
        </TextField>
      </Grid>
      <Grid item xs={12} md={3}>
        <TextField {...filterInput('template', 'Template')} />
      </Grid>
      <Grid item xs={12} md={3}>
        <TextField
          placeholder="owner/name"
          {...filterInput('repository', 'Repository')}
        />
      </Grid>
      {error && (
        <Grid item xs={12}>
          <ResponseErrorPanel error={error} />
        </Grid>
      )}
      <Grid item xs={12}>
        <Table<Approval>
          // A new key starts again at page one whenever the applied filters change.
          key={JSON.stringify(applied)}
          tableRef={table}
          title="Approvals"
          columns={columns}
          data={load}
          options={{
            search: true,
            searchFieldVariant: 'outlined',
            debounceInterval: 300,
            paging: true,
            pageSize: PAGE_SIZE,
            pageSizeOptions: [10, 25, 50, 100],
            sorting: false,
            padding: 'dense',
          }}
          localization={{
            body: {
              emptyDataSourceMessage: emptyMessage(
                searched || Object.values(applied).some(Boolean),
              ),
            },
          }}
        />
      </Grid>
    </Grid>
  );
}

function emptyMessage(filtered: boolean): string {
  return filtered
    ? 'No approval matches these filters.'
    : 'No approvals yet. They appear here when a workflow step asks for one, or when a template sends a test approval.';
}
