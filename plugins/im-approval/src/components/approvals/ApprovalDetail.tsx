import {
  InfoCard,
  Link,
  Progress,
  StructuredMetadataTable,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  describeDecider,
  explainRequester,
  type ApprovalWithTimeline,
  type FormValue,
} from '@im-approval/plugin-im-approval-common';
import Box from '@material-ui/core/Box';
import Chip from '@material-ui/core/Chip';
import Grid from '@material-ui/core/Grid';
import { makeStyles } from '@material-ui/core/styles';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import AlertTitle from '@material-ui/lab/AlertTitle';
import { useEffect, useState, type ReactNode } from 'react';
import { useParams } from 'react-router-dom';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { imApprovalApiRef } from '../../api/ImApprovalApi';
import { PROVIDERS } from '../../providers';
import { usePluginLink } from '../shared/basePath';
import { httpUrl } from '../shared/httpUrl';
import { LastUpdated } from '../shared/LastUpdated';
import { RequestFailed } from '../shared/RequestFailed';
import { formatAge, formatTime } from '../shared/time';
import { useApprovalChanges } from '../shared/useApprovalChanges';
import { ApprovalActions } from './ApprovalActions';
import { ApprovalStages } from './ApprovalStages';
import { ApprovalStatus } from './ApprovalStatus';
import { ApprovalTimeline } from './ApprovalTimeline';
import { githubLinks } from './githubLinks';

const useStyles = makeStyles({
  // Ids, SHAs, URLs and IM errors are long single tokens: broken only where they would overflow.
  card: { '& td, & p': { overflowWrap: 'anywhere' } },
  // Alert's message is a flex item: without a minimum width of 0 a long token widens the page.
  alertMessage: { minWidth: 0, overflowWrap: 'anywhere' },
  // The template's field beside the IM's label, in smaller text: the secondary name.
  fieldId: { marginLeft: 8 },
});

/** The labels as written: StructuredMetadataTable would start-case them ("Im App", "Run Id"). */
const AS_WRITTEN = { titleFormat: (key: string) => key };

/** One approval: what was asked, by which run, what the IM got, and every change since. */
export function ApprovalDetail() {
  const { id = '' } = useParams();
  const api = useApi(imApprovalApiRef);
  // The last approval read and when: a failed re-read keeps it on the page, its age showing.
  const [last, setLast] = useState<{
    approval: ApprovalWithTimeline;
    at: number;
  }>();
  const { loading, error, retry } = useAsyncRetry(async () => {
    const read = await api.getApproval(id);
    setLast({ approval: read, at: Date.now() });
  }, [api, id]);
  const link = usePluginLink();
  useApprovalChanges(changes => {
    if (changes.some(change => change.id === id)) retry();
  });

  const approval = last?.approval.id === id ? last.approval : undefined;
  const failed = error && (
    <RequestFailed error={error} what="read this approval" onRetry={retry} />
  );
  if (!approval) return loading ? <Progress /> : failed || null;
  const withStages = approval.stages.length > 0;
  const formValues = <FormValuesCard form={approval.form} />;

  return (
    <Grid container spacing={3}>
      <Grid item xs={12}>
        <Typography variant="body2">
          <Link to={link('')}>← All approvals</Link>
        </Typography>
        <Typography
          variant="h5"
          component="h2"
          style={{ overflowWrap: 'anywhere' }}
        >
          {approval.title}
        </Typography>
        <Box
          display="flex"
          alignItems="center"
          flexWrap="wrap"
          style={{ gap: 16 }}
        >
          <ApprovalStatus status={approval.status} />
          <LastUpdated at={last?.at} />
        </Box>
      </Grid>
      {failed && (
        <Grid item xs={12}>
          {failed}
        </Grid>
      )}
      {approval.error && (
        <Grid item xs={12}>
          <ImError approval={approval} />
        </Grid>
      )}
      <Grid item xs={12}>
        <ApprovalActions approval={approval} onChanged={retry} />
      </Grid>
      {/* Two columns only from lg up: at 1024 px each card gets the full width. */}
      <Grid item xs={12} lg={6}>
        <SummaryCard approval={approval} />
      </Grid>
      <Grid item xs={12} lg={6}>
        <RunCard approval={approval} />
      </Grid>
      {/* With stages, their progress takes the form values' place beside the timeline. */}
      <Grid item xs={12} lg={6}>
        {withStages ? (
          <InfoCard title="Stages">
            <ApprovalStages approval={approval} />
          </InfoCard>
        ) : (
          formValues
        )}
      </Grid>
      <Grid item xs={12} lg={6}>
        <InfoCard title="Timeline">
          <ApprovalTimeline timeline={approval.timeline} />
        </InfoCard>
      </Grid>
      {withStages && (
        <Grid item xs={12} lg={6}>
          {formValues}
        </Grid>
      )}
    </Grid>
  );
}

function imName(provider: string): string {
  return PROVIDERS[provider as keyof typeof PROVIDERS]?.label ?? provider;
}

/** The error kept on the approval: while pending, why the IM has not taken it yet; otherwise why it ended. */
function ImError({ approval }: { approval: ApprovalWithTimeline }) {
  const classes = useStyles();
  const retrying = approval.status === 'pending';
  let title = 'The last IM error';
  if (retrying)
    title = `Not in ${imName(approval.provider)} yet: the backend tries again`;
  else if (approval.status === 'failed') title = 'Why it failed';
  return (
    <Alert
      severity={retrying ? 'warning' : 'error'}
      classes={{ message: classes.alertMessage }}
    >
      <AlertTitle>{title}</AlertTitle>
      {approval.error}
    </Alert>
  );
}

/** How long people took: until the decision, or so far while it waits (ticking). */
function DecisionTime({ approval }: { approval: ApprovalWithTimeline }) {
  const pending = !approval.decidedAt;
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!pending) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 5_000);
    return () => clearInterval(timer);
  }, [pending]);
  const age = formatAge(approval.createdAt, approval.decidedAt, now);
  return <>{pending ? `waiting for ${age}` : age}</>;
}

function SummaryCard({ approval }: { approval: ApprovalWithTimeline }) {
  const classes = useStyles();
  const imUrl = httpUrl(approval.imUrl);
  const metadata: Record<string, ReactNode> = {
    Template: approval.template,
    'IM app': `${approval.integration} (${imName(approval.provider)})`,
    'Requested by': approval.requester
      ? explainRequester(approval.requester)
      : '—',
    Approvers: approval.approvers.join(', '),
    CC: approval.cc.join(', ') || '—',
    Requested: formatTime(approval.createdAt),
    Expires: formatTime(approval.expiresAt),
    ...(approval.nextReminderAt && {
      'Next reminder': formatTime(approval.nextReminderAt),
    }),
    ...(approval.escalateTo.length > 0 && {
      Escalation: approval.escalatesAt
        ? `to ${approval.escalateTo.join(', ')} at ${formatTime(approval.escalatesAt)}`
        : `to ${approval.escalateTo.join(', ')} (done or not due: see the timeline)`,
    }),
    'Decided by': describeDecider(approval) ?? '—',
    Decided: approval.decidedAt ? formatTime(approval.decidedAt) : '—',
    'Time to decide': <DecisionTime approval={approval} />,
    Comment: approval.comment ?? '—',
    'IM instance': imUrl ? (
      <Link to={imUrl}>{approval.imInstanceId ?? 'open in the IM'}</Link>
    ) : (
      (approval.imInstanceId ?? '—')
    ),
    'Approval id': approval.id,
  };
  return (
    <InfoCard title="Approval" className={classes.card}>
      <StructuredMetadataTable metadata={metadata} options={AS_WRITTEN} />
    </InfoCard>
  );
}

function linkOr(url: string | undefined, text: ReactNode, title?: string) {
  return url ? (
    <Link to={url} title={title}>
      {text}
    </Link>
  ) : (
    <span title={title}>{text}</span>
  );
}

function RunCard({ approval }: { approval: ApprovalWithTimeline }) {
  const classes = useStyles();
  const { context } = approval;
  const links = githubLinks(context);
  const run = context.runId
    ? `${context.runId}${context.runAttempt ? `, attempt ${context.runAttempt}` : ''}`
    : context.runUrl;
  // Only what the run told: an absent value is left out rather than shown as a dash.
  const rows: Array<[string, ReactNode]> = [
    ['Repository', linkOr(links.repository, context.repository)],
    ['Ref', context.ref && linkOr(links.ref, context.ref)],
    [
      'Commit',
      // GitHub's short form, the full SHA on hover.
      context.sha && linkOr(links.commit, context.sha.slice(0, 7), context.sha),
    ],
    ['Workflow', context.workflow],
    ['Job', context.job],
    ['Environment', context.environment],
    ['Event', context.eventName],
    ['Run', run && linkOr(links.run, run)],
    ['Started by', context.actor],
    ['GitHub server', links.server && linkOr(links.server, links.server)],
    ['Called by', context.caller],
  ];
  return (
    <InfoCard
      title="Run context"
      className={classes.card}
      subheader={
        <Box display="flex" flexWrap="wrap" style={{ gap: 8 }}>
          {context.verified ? (
            <Chip
              size="small"
              color="primary"
              label={
                context.gate
                  ? 'Verified: signed GitHub webhook'
                  : 'Verified: GitHub OIDC token'
              }
            />
          ) : (
            <Chip size="small" label="Self-reported by the caller" />
          )}
          {context.gate && (
            <Chip
              size="small"
              variant="outlined"
              // A long gate name is cut with an ellipsis rather than widening the card; whole on hover.
              style={{ maxWidth: '100%' }}
              title={context.gate}
              label={`Deployment gate ${context.gate}: GitHub holds the job, no runner waits`}
            />
          )}
          {context.test && (
            <Chip
              size="small"
              variant="outlined"
              label="Test approval from a template"
            />
          )}
        </Box>
      }
    >
      <StructuredMetadataTable
        metadata={Object.fromEntries(rows.filter(([, value]) => value))}
        options={AS_WRITTEN}
      />
    </InfoCard>
  );
}

/**
 * The values as sent, each by the label the IM form shows approvers, with the template's field
 * beside it where the two differ. Approvals from before labels were kept have only the template's
 * field, and the card says so.
 */
function FormValuesCard({ form }: { form: FormValue[] }) {
  const classes = useStyles();
  const unlabelled = form.length > 0 && form.every(({ label }) => !label);
  return (
    <InfoCard
      title="Form values sent to the IM"
      subheader={
        unlabelled
          ? "Each field as the template names it: the IM form's field id or name"
          : undefined
      }
      className={classes.card}
    >
      {form.length === 0 ? (
        <Typography variant="body2">No form values were sent.</Typography>
      ) : (
        <Table size="small" aria-label="Form values sent to the IM">
          <TableHead>
            <TableRow>
              <TableCell>Field</TableCell>
              <TableCell>Value</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {form.map(({ field, label, value }, index) => (
              <TableRow key={`${field}-${index}`}>
                <TableCell>
                  {label || field}
                  {label && label !== field && (
                    <Typography
                      variant="caption"
                      color="textSecondary"
                      component="span"
                      className={classes.fieldId}
                    >
                      {field}
                    </Typography>
                  )}
                </TableCell>
                <TableCell style={{ whiteSpace: 'pre-wrap' }}>
                  {value}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </InfoCard>
  );
}
