import {
  Link,
  StatusAborted,
  StatusError,
  StatusOK,
  StatusPending,
} from '@backstage/core-components';
import {
  describeDecider,
  type ApprovalStage,
  type ApprovalStageRequest,
  type ApprovalWithTimeline,
} from '@im-approval/plugin-im-approval-common';
import Box from '@material-ui/core/Box';
import { makeStyles } from '@material-ui/core/styles';
import Typography from '@material-ui/core/Typography';
import { httpUrl } from '../shared/httpUrl';
import { ruleText } from '../shared/stages';

const STAGE_STATUS = {
  waiting: StatusAborted,
  pending: StatusPending,
  approved: StatusOK,
  rejected: StatusError,
} satisfies Record<ApprovalStage['status'], unknown>;

const useStyles = makeStyles(theme => ({
  list: { margin: 0, padding: 0, listStyle: 'none' },
  stage: {
    padding: theme.spacing(1, 0),
    '& + &': { borderTop: `1px solid ${theme.palette.divider}` },
  },
  // IM ids and names may be long single tokens.
  text: { overflowWrap: 'anywhere' },
  requests: { margin: theme.spacing(0.5, 0, 0), paddingLeft: theme.spacing(2) },
  approver: { fontWeight: 500 },
}));

/** Where one stage stands, in a sentence: whom it waits on, who approved, or why it is not asked yet. */
function progress(
  stage: ApprovalStage,
  index: number,
  approval: ApprovalWithTimeline,
): string {
  const approved = stage.approvedBy.join(', ');
  switch (stage.status) {
    case 'approved':
      return approved ? `Approved by ${approved}` : 'Approved';
    case 'rejected': {
      // A counted stage names its own rejections; otherwise the one who decided rejected it.
      const by = stage.rejectedBy.join(', ') || describeDecider(approval);
      return by ? `Rejected by ${by}` : 'Rejected';
    }
    case 'pending': {
      if (approval.status !== 'pending')
        return `Not decided: the approval is ${approval.status}`;
      const waiting = stage.waitingOn.length
        ? `Pending on ${stage.waitingOn.join(', ')}`
        : 'Pending';
      const count = stage.atLeast
        ? ` (${stage.approvedBy.length} of ${stage.atLeast} needed)`
        : '';
      return approved
        ? `${waiting}; approved so far by ${approved}${count}`
        : `${waiting}${count}`;
    }
    default:
      if (approval.status !== 'pending')
        return `Never reached: the approval is ${approval.status}`;
      return `Waiting for stage ${index} to be approved`;
  }
}

/** Where one approver's own request in a counted stage stands, in words. */
function requestStatus(
  request: ApprovalStageRequest,
  stage: ApprovalStage,
  approval: ApprovalWithTimeline,
): string {
  const by = request.decidedBy ? ` by ${request.decidedBy}` : '';
  switch (request.status) {
    case 'pending':
      return 'waiting for them';
    case 'approved':
      return `approved${by}`;
    case 'rejected':
      return `rejected${by}`;
    default:
      // Closed while the stage is undecided: the approval ended under it.
      return stage.status === 'pending'
        ? `withdrawn: the approval is ${approval.status}`
        : 'withdrawn: the stage was decided without them';
  }
}

/** A counted stage's approvers, one line each: their request's status, comment and IM link. */
function StageRequests(props: {
  stage: ApprovalStage;
  title: string;
  approval: ApprovalWithTimeline;
}) {
  const classes = useStyles();
  const { stage, title, approval } = props;
  return (
    <ul className={classes.requests} aria-label={`Requests in ${title}`}>
      {stage.requests.map(request => {
        const url = httpUrl(request.url);
        return (
          <Typography
            key={request.approver}
            component="li"
            variant="body2"
            className={classes.text}
          >
            <span className={classes.approver}>{request.approver}</span>:{' '}
            {requestStatus(request, stage, approval)}
            {request.comment && <> — “{request.comment}”</>}
            {url && (
              <>
                {' · '}
                <Link to={url} aria-label={`IM request of ${request.approver}`}>
                  IM request
                </Link>
              </>
            )}
          </Typography>
        );
      })}
    </ul>
  );
}

/** Each stage of an approval in order: its name, rule, people, and how far it has come. */
export function ApprovalStages(props: { approval: ApprovalWithTimeline }) {
  const classes = useStyles();
  const { stages } = props.approval;
  return (
    <ol className={classes.list} aria-label="Stages">
      {stages.map((stage, index) => {
        const Status = STAGE_STATUS[stage.status];
        const title = `Stage ${index + 1}${stage.name ? `: ${stage.name}` : ''}`;
        return (
          <li
            key={index}
            className={classes.stage}
            aria-current={stage.status === 'pending' ? 'step' : undefined}
          >
            <Box
              display="flex"
              flexWrap="wrap"
              alignItems="center"
              style={{ gap: 8 }}
            >
              <Typography variant="subtitle2" component="h3">
                {title}
              </Typography>
              <Typography variant="body2" component="span">
                <Status>{stage.status}</Status>
              </Typography>
            </Box>
            <Typography variant="body2" className={classes.text}>
              {progress(stage, index, props.approval)}
            </Typography>
            <Typography
              variant="body2"
              color="textSecondary"
              className={classes.text}
            >
              Asked {stage.approvers.join(', ') || 'no one'}:{' '}
              {ruleText(stage.rule, stage.atLeast)}
            </Typography>
            {stage.atLeast !== null && stage.requests.length > 0 && (
              <StageRequests
                stage={stage}
                title={title}
                approval={props.approval}
              />
            )}
          </li>
        );
      })}
    </ol>
  );
}
