import { Link, Table, type TableColumn } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  approvalStatusSchema,
  describeDecider,
  type Approval,
  type ApprovalFacets,
  type ApprovalStatus as Status,
} from '@im-approval/plugin-im-approval-common';
import Box from '@material-ui/core/Box';
import Grid from '@material-ui/core/Grid';
import MenuItem from '@material-ui/core/MenuItem';
import Paper from '@material-ui/core/Paper';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import Autocomplete from '@material-ui/lab/Autocomplete';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { useDebounce } from 'react-use';
import useAsync from 'react-use/esm/useAsync';
import {
  imApprovalApiRef,
  type ApprovalsFilter,
} from '../../api/ImApprovalApi';
import { usePluginLink } from '../shared/basePath';
import { LastUpdated } from '../shared/LastUpdated';
import { RequestFailed } from '../shared/RequestFailed';
import { TABLE_OPTIONS } from '../shared/tableOptions';
import { formatAge } from '../shared/time';
import { useApprovalChanges } from '../shared/useApprovalChanges';
import { approvalColumns } from './approvalColumns';

const PAGE_SIZE = 25;

/** The filters, as the page's URL keeps them so a view can be bookmarked and shared. */
const FILTER_KEYS = ['mine', 'status', 'template', 'repository', 'q'] as const;
type FilterKey = (typeof FILTER_KEYS)[number];
type Filters = Record<FilterKey, string>;

const MINE = { requested: 'Requested by me', waiting: 'Waiting on me' };

function filtersOf(params: URLSearchParams): Filters {
  const filters = Object.fromEntries(
    FILTER_KEYS.map(key => [key, params.get(key)?.trim() ?? '']),
  ) as Filters;
  // A hand-edited URL with an unknown value shows everything rather than an error.
  if (!approvalStatusSchema.safeParse(filters.status).success)
    filters.status = '';
  if (!(filters.mine in MINE)) filters.mine = '';
  return filters;
}

/** The approvals, newest first, filtered and paged by the backend; filters live in the URL. */
export function ApprovalsList() {
  const api = useApi(imApprovalApiRef);
  const link = usePluginLink();
  const [params, setParams] = useSearchParams();
  const applied = filtersOf(params);
  // A new key starts the table again at page one whenever a filter other than the search changes;
  // it starts with the search the URL has then, which it owns from there on.
  const tableKey = JSON.stringify({ ...applied, q: undefined });
  const searchAtMount = useRef({ key: tableKey, q: applied.q });
  if (searchAtMount.current.key !== tableKey)
    searchAtMount.current = { key: tableKey, q: applied.q };
  const tableSearch = searchAtMount.current.q;
  const setFilter = (key: FilterKey, value: string) =>
    setParams(
      current => {
        const next = new URLSearchParams(current);
        if (value.trim()) next.set(key, value.trim());
        else next.delete(key);
        return next;
      },
      { replace: true },
    );
  const setFilterRef = useRef(setFilter);
  setFilterRef.current = setFilter;
  // The table reports its state after every render: only a changed search text touches the URL.
  const appliedSearch = useRef(applied.q);
  appliedSearch.current = applied.q;
  const onTableState = useCallback((state: { search?: string }) => {
    const search = state.search?.trim() ?? '';
    if (search !== appliedSearch.current) setFilterRef.current('q', search);
  }, []);
  const [error, setError] = useState<Error>();
  const [updatedAt, setUpdatedAt] = useState<number>();
  // The page shown is read again whenever an approval changes: a new one, or one decided.
  const table = useRef<{ onQueryChange(): void }>();
  useApprovalChanges(() => table.current?.onQueryChange());

  // Four columns fit a 1024 px window: what each row is about goes under its title, the wait under its decision.
  const columns: TableColumn<Approval>[] = [
    approvalColumns.status,
    {
      title: 'Approval',
      field: 'title',
      cellStyle: { minWidth: 200, wordBreak: 'break-word' },
      render: row => (
        <>
          <Link to={link(`approvals/${row.id}`)}>{row.title}</Link>
          <Typography variant="body2" component="div">
            <span>{row.context.repository}</span>
            {' · '}
            <span>{row.template}</span>
          </Typography>
        </>
      ),
    },
    approvalColumns.requested,
    {
      title: 'Decision',
      field: 'decidedBy',
      render: row => (
        <>
          <div>{describeDecider(row) ?? '—'}</div>
          <Typography variant="body2" component="div">
            {row.decidedAt ? 'after ' : 'waiting '}
            <span>{formatAge(row.createdAt, row.decidedAt)}</span>
          </Typography>
        </>
      ),
    },
  ];

  const load = async (query: {
    page: number;
    pageSize: number;
    search: string;
  }) => {
    const filter: ApprovalsFilter = {
      q: query.search.trim() || undefined,
      status: (applied.status as Status) || undefined,
      template: applied.template || undefined,
      repository: applied.repository || undefined,
      mine: (applied.mine as ApprovalsFilter['mine']) || undefined,
      limit: query.pageSize,
      offset: query.page * query.pageSize,
    };
    try {
      const page = await api.listApprovals(filter);
      setError(undefined);
      setUpdatedAt(Date.now());
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

  /** The look every filter shares. */
  const filterField = {
    fullWidth: true,
    variant: 'outlined' as const,
    size: 'small' as const,
  };

  return (
    <Grid container spacing={2}>
      <Grid item xs={12}>
        <Paper variant="outlined">
          <Box p={2}>
            <Grid container spacing={2}>
              <Grid item xs={12} sm={6} md={3}>
                <TextField
                  {...filterField}
                  id="approvals-mine"
                  label="Whose"
                  select
                  SelectProps={{ displayEmpty: true }}
                  InputLabelProps={{ shrink: true }}
                  value={applied.mine}
                  onChange={event => setFilter('mine', event.target.value)}
                >
                  <MenuItem value="">Everyone's</MenuItem>
                  {Object.entries(MINE).map(([value, label]) => (
                    <MenuItem key={value} value={value}>
                      {label}
                    </MenuItem>
                  ))}
                </TextField>
              </Grid>
              <Grid item xs={12} sm={6} md={3}>
                <TextField
                  {...filterField}
                  id="approvals-status"
                  label="Status"
                  select
                  SelectProps={{ displayEmpty: true }}
                  InputLabelProps={{ shrink: true }}
                  value={applied.status}
                  onChange={event => setFilter('status', event.target.value)}
                >
                  <MenuItem value="">Any status</MenuItem>
                  {approvalStatusSchema.options.map(status => (
                    <MenuItem key={status} value={status}>
                      {status}
                    </MenuItem>
                  ))}
                </TextField>
              </Grid>
              <Grid item xs={12} sm={6} md={3}>
                <FacetPicker
                  facet="templates"
                  id="approvals-template"
                  label="Template"
                  value={applied.template}
                  onChange={value => setFilter('template', value)}
                />
              </Grid>
              <Grid item xs={12} sm={6} md={3}>
                <FacetPicker
                  facet="repositories"
                  id="approvals-repository"
                  label="Repository"
                  placeholder="owner/name"
                  value={applied.repository}
                  onChange={value => setFilter('repository', value)}
                />
              </Grid>
            </Grid>
          </Box>
        </Paper>
      </Grid>
      {error && (
        <Grid item xs={12}>
          <RequestFailed
            error={error}
            what="read approvals"
            onRetry={() => table.current?.onQueryChange()}
          />
        </Grid>
      )}
      <Grid item xs={12}>
        <Table<Approval>
          key={tableKey}
          tableRef={table}
          title={
            <Box display="flex" alignItems="baseline" style={{ gap: 12 }}>
              <Typography variant="h5" component="h2">
                Approvals
              </Typography>
              <LastUpdated at={updatedAt} />
            </Box>
          }
          columns={columns}
          data={load}
          initialState={{ search: tableSearch }}
          onStateChange={onTableState}
          options={{
            ...TABLE_OPTIONS,
            search: true,
            searchText: tableSearch,
            searchFieldVariant: 'outlined',
            searchFieldAlignment: 'right',
            debounceInterval: 300,
            paging: true,
            pageSize: PAGE_SIZE,
            pageSizeOptions: [10, 25, 50, 100],
          }}
          localization={{
            body: {
              emptyDataSourceMessage: emptyMessage(
                Object.values(applied).some(Boolean),
              ),
            },
            toolbar: { searchAriaLabel: 'Search approvals' },
          }}
        />
      </Grid>
    </Grid>
  );
}

/**
 * A filter picked from the values recent approvals have (asked of the backend as the user types),
 * or typed freely; it applies once the user pauses.
 */
function FacetPicker(props: {
  facet: keyof ApprovalFacets;
  id: string;
  label: string;
  placeholder?: string;
  value: string;
  onChange: (value: string) => void;
}) {
  const api = useApi(imApprovalApiRef);
  const [text, setText] = useState(props.value);
  // The URL may change under the field (back, a link): the field follows it.
  useEffect(() => {
    setText(current =>
      current.trim() === props.value ? current : props.value,
    );
  }, [props.value]);
  const [asked, setAsked] = useState(props.value);
  useDebounce(
    () => {
      setAsked(text);
      if (text.trim() !== props.value) props.onChange(text);
    },
    300,
    [text],
  );
  // The list of choices is a help, not the page: without it the field still filters by what is typed.
  const options = useAsync(
    async () => (await api.listApprovalFacets(asked))[props.facet],
    [api, asked, props.facet],
  );
  return (
    <Autocomplete
      id={props.id}
      freeSolo
      options={options.value ?? []}
      loading={options.loading}
      // Controlled both ways: MUI resets the text to the value, so the value is the applied filter.
      value={props.value || null}
      onChange={(_event, value) => {
        setText(value ?? '');
        props.onChange(value ?? '');
      }}
      inputValue={text}
      onInputChange={(_event, value) => setText(value)}
      renderInput={input => (
        <TextField
          {...input}
          fullWidth
          variant="outlined"
          size="small"
          label={props.label}
          placeholder={props.placeholder}
        />
      )}
    />
  );
}

function emptyMessage(filtered: boolean): string {
  return filtered
    ? 'No approval matches these filters.'
    : 'No approvals yet. They appear here when a workflow step asks for one, or when a template sends a test approval.';
}
