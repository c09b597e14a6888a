import type {
  TimelineEvent,
  TimelineEventType,
  TimelineSource,
} from '@im-approval/plugin-im-approval-common';
import type { SvgIconProps } from '@material-ui/core/SvgIcon';
import { makeStyles } from '@material-ui/core/styles';
import Typography from '@material-ui/core/Typography';
import CallReceivedIcon from '@material-ui/icons/CallReceived';
import CodeIcon from '@material-ui/icons/Code';
import DoneIcon from '@material-ui/icons/Done';
import GavelIcon from '@material-ui/icons/Gavel';
import GitHubIcon from '@material-ui/icons/GitHub';
import ScheduleIcon from '@material-ui/icons/Schedule';
import SettingsInputAntennaIcon from '@material-ui/icons/SettingsInputAntenna';
import SyncIcon from '@material-ui/icons/Sync';
import Timeline from '@material-ui/lab/Timeline';
import TimelineConnector from '@material-ui/lab/TimelineConnector';
import TimelineContent from '@material-ui/lab/TimelineContent';
import TimelineDot, {
  type TimelineDotProps,
} from '@material-ui/lab/TimelineDot';
import TimelineItem from '@material-ui/lab/TimelineItem';
import TimelineSeparator from '@material-ui/lab/TimelineSeparator';
import type { ComponentType } from 'react';
import { formatTime } from '../shared/time';

/** Where a change came from, as an icon and the words a screen reader (and a hover) gives it. */
const SOURCES: Record<
  TimelineSource,
  { label: string; Icon: ComponentType<SvgIconProps> }
> = {
  api: { label: 'API call', Icon: CodeIcon },
  callback: { label: 'IM callback', Icon: CallReceivedIcon },
  connection: { label: 'IM connection', Icon: SettingsInputAntennaIcon },
  reconciler: { label: 'Reconciler', Icon: SyncIcon },
  scheduler: { label: 'Scheduler (deadlines, reminders)', Icon: ScheduleIcon },
  admin: { label: 'Backstage administrator', Icon: GavelIcon },
  github: { label: 'GitHub webhook', Icon: GitHubIcon },
};

/** Each kind of change in words and a colour; a stage's approval, a step on the way, is outlined and ticked. */
const EVENTS: Record<
  TimelineEventType,
  {
    label: string;
    color: TimelineDotProps['color'];
    variant?: TimelineDotProps['variant'];
    Icon?: ComponentType<SvgIconProps>;
  }
> = {
  created: { label: 'Requested', color: 'grey' },
  im_instance_created: { label: 'IM instance created', color: 'grey' },
  im_error: { label: 'IM error', color: 'secondary' },
  stage_approved: {
    label: 'Stage approved',
    color: 'primary',
    variant: 'outlined',
    Icon: DoneIcon,
  },
  approved: { label: 'Approved', color: 'primary' },
  rejected: { label: 'Rejected', color: 'secondary' },
  canceled: { label: 'Canceled', color: 'grey' },
  expired: { label: 'Expired', color: 'secondary' },
  failed: { label: 'Failed', color: 'secondary' },
  im_instance_revoked: { label: 'IM instance withdrawn', color: 'grey' },
  im_revoke_failed: { label: 'IM instance not withdrawn', color: 'secondary' },
  reminded: { label: 'Approvers reminded', color: 'grey', variant: 'outlined' },
  escalated: { label: 'Escalated', color: 'secondary', variant: 'outlined' },
};

const useStyles = makeStyles(theme => ({
  timeline: { margin: 0, padding: theme.spacing(0, 0, 0, 1) },
  // Without opposite content lab's timeline keeps an empty half-width column on the left.
  item: { '&:before': { display: 'none' } },
  content: { minWidth: 0, paddingTop: theme.spacing(1.5) },
  label: { display: 'flex', alignItems: 'center', gap: theme.spacing(0.5) },
  // A message or an actor may be one long token (an IM error, a URL, a caller id): broken only where it must be.
  message: { overflowWrap: 'anywhere' },
}));

/** Every change of an approval, oldest first, drawn as a vertical timeline. */
export function ApprovalTimeline(props: { timeline: TimelineEvent[] }) {
  const classes = useStyles();
  if (props.timeline.length === 0)
    return <Typography variant="body2">Nothing happened yet.</Typography>;
  return (
    <Timeline className={classes.timeline} aria-label="Timeline">
      {props.timeline.map((event, index) => {
        const source = SOURCES[event.source];
        const kind = EVENTS[event.type];
        return (
          <TimelineItem
            key={`${event.at}-${index}`}
            classes={{ missingOppositeContent: classes.item }}
          >
            <TimelineSeparator>
              <TimelineDot color={kind.color} variant={kind.variant}>
                <source.Icon fontSize="small" titleAccess={source.label} />
              </TimelineDot>
              {index < props.timeline.length - 1 && <TimelineConnector />}
            </TimelineSeparator>
            <TimelineContent className={classes.content}>
              <Typography
                variant="subtitle2"
                component="p"
                className={classes.label}
              >
                {kind.Icon && (
                  <kind.Icon fontSize="small" color="primary" aria-hidden />
                )}
                {kind.label}
              </Typography>
              <Typography
                variant="caption"
                color="textSecondary"
                className={classes.message}
              >
                <time dateTime={event.at}>{formatTime(event.at)}</time>
                {event.actor && <> · by {event.actor}</>}
              </Typography>
              {event.message && (
                <Typography variant="body2" className={classes.message}>
                  {event.message}
                </Typography>
              )}
            </TimelineContent>
          </TimelineItem>
        );
      })}
    </Timeline>
  );
}
