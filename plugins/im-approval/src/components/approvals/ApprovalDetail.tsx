import {
  InfoCard,
  Link,
  Progress,
  ResponseErrorPanel,
  StructuredMetadataTable,
  Table,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  describeDecider,
  explainRequester,
  type ApprovalWithTimeline,
  type FormValue,
  type TimelineEvent,
} from '@im-approval/plugin-im-approval-common';
import Chip from '@material-ui/core/Chip';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import { useParams } from 'react-router-dom';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { imApprovalApiRef } from '../../api/ImApprovalApi';
import { usePluginLink } from '../shared/basePath';
import { httpUrl } from '../shared/httpUrl';
import { formatTime } from '../shared/time';
import { useApprovalChanges } from '../shared/useApprovalChanges';
import { ApprovalActions } from './ApprovalActions';
import { ApprovalStatus } from './ApprovalStatus';

/** One approval: what was asked, by which run, what the IM got, and every change since. */
export function ApprovalDetail() {
  const { id = '' } = useParams();
  const api = useApi(imApprovalApiRef);
  const {
    value: approval,
    loading,
    error,
    retry,
  } = useAsyncRetry(() => api.getApproval(id), [api, id]);
  const link = usePluginLink();
  useApprovalChanges(changes => {
    if (changes.some(change => change.id === id)) retry();
  });

  if (loading && !approval) return <Progress />;
  if (error) return <ResponseErrorPanel error={error} />;
  if (!approval) return null;

  return (
    <Grid container spacing={3}>
      <Grid item xs={12}>
        <Typography variant="body2">
          <Link to={link('')}>← All approvals</Link>
        </Typography>
        <Typography variant="h5" component="h2">
          {approval.title}
        </Typography>
        <ApprovalStatus status={approval.status} />
      </Grid>
      <Grid item xs={12}>
        <ApprovalActions approval={approval} onChanged={retry} />
      </Grid>
      <Grid item xs={12} md={6}>
        <SummaryCard approval={approval} />
      </Grid>
      <Grid item xs={12} md={6}>
        <ContextCard approval={approval} />
      </Grid>
      <Grid item xs={12} md={6}>
        <FormValuesCard form={approval.form} />
      </Grid>
      <Grid item xs={12} md={6}>
        <TimelineCard timeline={approval.timeline} />
      </Grid>
    </Grid>
  );
}

function SummaryCard({ approval }: { approval: ApprovalWithTimeline }) {
  const metadata: Record<string, unknown> = {
    template: approval.template,
    'IM app': `${approval.integration} (${approval.provider})`,
    'requested by': approval.requester
      ? explainRequester(approval.requester)
      : '—',
    approvers: approval.approvers.join(', '),
    requested: formatTime(approval.createdAt),
    expires: formatTime(approval.expiresAt),
    'decided by': describeDecider(approval) ?? '—',
    decided: approval.decidedAt ? formatTime(approval.decidedAt) : '—',
    comment: approval.comment ?? '—',
    'IM instance': httpUrl(approval.imUrl) ? (
      <Link to={httpUrl(approval.imUrl)!}>
        {approval.imInstanceId ?? 'open in the IM'}
      </Link>
    ) : (
      (approval.imInstanceId ?? '—')
    ),
  };
  if (approval.error) metadata.error = approval.error;
  return (
    <InfoCard title="Approval">
      <StructuredMetadataTable metadata={metadata} />
    </InfoCard>
  );
}

function ContextCard({ approval }: { approval: ApprovalWithTimeline }) {
  const { verified, caller, runUrl, test, gate, ...run } = approval.context;
  const metadata: Record<string, unknown> = {
    caller,
    ...run,
    'workflow run': httpUrl(runUrl) ? (
      <Link to={httpUrl(runUrl)!}>{runUrl}</Link>
    ) : (
      (runUrl ?? '—')
    ),
  };
  return (
    <InfoCard
      title="Run context"
      subheader={
        <>
          {verified ? (
            <Chip
              size="small"
              color="primary"
              label={
                gate
                  ? 'Verified: signed GitHub webhook'
                  : 'Verified: GitHub OIDC token'
              }
            />
          ) : (
            <Chip size="small" label="Self-reported by the caller" />
          )}
          {gate && (
            <Chip
              size="small"
              variant="outlined"
              label={`Deployment gate ${gate}: GitHub holds the job, no runner waits`}
            />
          )}
          {test && (
            <Chip
              size="small"
              variant="outlined"
              label="Test approval from a template"
            />
          )}
        </>
      }
    >
      <StructuredMetadataTable metadata={metadata} />
    </InfoCard>
  );
}

function FormValuesCard({ form }: { form: FormValue[] }) {
  return (
    <Table<FormValue>
      title="Form values sent to the IM"
      options={{
        search: false,
        paging: false,
        toolbar: true,
        padding: 'dense',
      }}
      columns={[
        { title: 'Field', field: 'field' },
        { title: 'Value', field: 'value' },
      ]}
      data={form}
      emptyContent={
        <Typography style={{ padding: 16 }}>
          No form values were sent.
        </Typography>
      }
    />
  );
}

function TimelineCard({ timeline }: { timeline: TimelineEvent[] }) {
  return (
    <Table<TimelineEvent>
      title="Timeline"
      options={{ search: false, paging: false, padding: 'dense' }}
      columns={[
        { title: 'When', field: 'at', render: event => formatTime(event.at) },
        {
          title: 'Event',
          field: 'type',
          render: event => event.type.replace(/_/g, ' '),
        },
        { title: 'From', field: 'source' },
        { title: 'Who', field: 'actor', render: event => event.actor ?? '—' },
        {
          title: 'Message',
          field: 'message',
          render: event => event.message ?? '',
        },
      ]}
      data={timeline}
    />
  );
}
