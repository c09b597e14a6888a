import { TEXT_LIMITS } from '@im-approval/plugin-im-approval-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import IconButton from '@material-ui/core/IconButton';
import MenuItem from '@material-ui/core/MenuItem';
import Paper from '@material-ui/core/Paper';
import { makeStyles } from '@material-ui/core/styles';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import ArrowDownwardIcon from '@material-ui/icons/ArrowDownward';
import ArrowUpwardIcon from '@material-ui/icons/ArrowUpward';
import DeleteIcon from '@material-ui/icons/Delete';
import { useId } from 'react';
import { CatalogPeoplePicker } from './CatalogPeoplePicker';
import {
  APPROVERS_HELP,
  stageErrorKey,
  type StageFormState,
} from './templateForm';

const useStyles = makeStyles(theme => ({
  list: { listStyle: 'none', margin: 0, padding: 0 },
  stage: { padding: theme.spacing(1, 2, 2), marginTop: theme.spacing(1) },
}));

export function emptyStage(): StageFormState {
  return { name: '', approvers: '', rule: 'all', atLeast: '' };
}

/**
 * The stages of a template, decided in order, each with its name, approvers and rule. Every
 * change names the error keys it makes stale, for the dialog to clear.
 */
export function StagesEditor(props: {
  stages: StageFormState[];
  errors: Record<string, string>;
  disabled: boolean;
  onChange: (stages: StageFormState[], cleared: string[]) => void;
}) {
  const classes = useStyles();
  const { stages, errors, disabled } = props;
  const headingId = useId();
  const update = (index: number, change: Partial<StageFormState>) =>
    props.onChange(
      stages.map((stage, i) => (i === index ? { ...stage, ...change } : stage)),
      Object.keys(change).map(input =>
        stageErrorKey(index, input as keyof StageFormState),
      ),
    );
  // Moving or removing a stage renumbers those after it: their messages no longer say where they are.
  const allStageErrors = Object.keys(errors).filter(key =>
    key.startsWith('stages'),
  );
  const move = (index: number, by: -1 | 1) => {
    const next = [...stages];
    [next[index], next[index + by]] = [next[index + by], next[index]];
    props.onChange(next, allStageErrors);
  };

  return (
    <Box>
      <Box component="ol" className={classes.list} aria-label="Stages">
        {stages.map((stage, index) => {
          const number = index + 1;
          const error = (input: keyof StageFormState) =>
            errors[stageErrorKey(index, input)];
          return (
            <li key={index}>
              <Paper
                variant="outlined"
                className={classes.stage}
                role="group"
                aria-labelledby={`${headingId}-${index}`}
              >
                <Box display="flex" alignItems="center">
                  <Typography
                    id={`${headingId}-${index}`}
                    variant="subtitle2"
                    component="h3"
                    style={{ flex: 1 }}
                  >
                    Stage {number}
                    {stage.name.trim() && `: ${stage.name.trim()}`}
                  </Typography>
                  {!disabled && (
                    <>
                      <IconButton
                        size="small"
                        aria-label={`Move stage ${number} up`}
                        disabled={index === 0}
                        onClick={() => move(index, -1)}
                      >
                        <ArrowUpwardIcon fontSize="small" />
                      </IconButton>
                      <IconButton
                        size="small"
                        aria-label={`Move stage ${number} down`}
                        disabled={index === stages.length - 1}
                        onClick={() => move(index, 1)}
                      >
                        <ArrowDownwardIcon fontSize="small" />
                      </IconButton>
                      <IconButton
                        size="small"
                        aria-label={`Remove stage ${number}`}
                        onClick={() =>
                          props.onChange(
                            stages.filter((_, i) => i !== index),
                            allStageErrors,
                          )
                        }
                      >
                        <DeleteIcon fontSize="small" />
                      </IconButton>
                    </>
                  )}
                </Box>
                <TextField
                  id={`stage-name-${index}`}
                  fullWidth
                  margin="dense"
                  label="Stage name (optional)"
                  value={stage.name}
                  disabled={disabled}
                  error={Boolean(error('name'))}
                  helperText={
                    error('name') ??
                    `As approvers see the step in the IM, e.g. Team lead; at most ${TEXT_LIMITS.stageName} characters.`
                  }
                  onChange={event =>
                    update(index, { name: event.target.value })
                  }
                />
                <TextField
                  id={`stage-approvers-${index}`}
                  fullWidth
                  multiline
                  margin="dense"
                  label="Approvers"
                  required
                  value={stage.approvers}
                  disabled={disabled}
                  error={Boolean(error('approvers'))}
                  helperText={error('approvers') ?? APPROVERS_HELP}
                  onChange={event =>
                    update(index, { approvers: event.target.value })
                  }
                />
                <CatalogPeoplePicker
                  id={`stage-approvers-catalog-${index}`}
                  disabled={disabled}
                  onPick={ref =>
                    update(index, {
                      approvers: [stage.approvers.trim(), ref]
                        .filter(Boolean)
                        .join('\n'),
                    })
                  }
                />
                <TextField
                  id={`stage-rule-${index}`}
                  select
                  fullWidth
                  margin="dense"
                  label="The stage is approved when"
                  value={stage.rule}
                  disabled={disabled}
                  error={Boolean(error('rule'))}
                  helperText={error('rule')}
                  onChange={event =>
                    update(index, {
                      rule: event.target.value as StageFormState['rule'],
                    })
                  }
                >
                  <MenuItem value="any">Any one of them approves</MenuItem>
                  <MenuItem value="all">All of them approve</MenuItem>
                  <MenuItem value="atLeast">A number of them approve</MenuItem>
                </TextField>
                {stage.rule === 'atLeast' && (
                  <TextField
                    id={`stage-at-least-${index}`}
                    margin="dense"
                    label="How many must approve"
                    required
                    value={stage.atLeast}
                    disabled={disabled}
                    inputProps={{ inputMode: 'numeric' }}
                    error={Boolean(error('atLeast'))}
                    helperText={
                      error('atLeast') ??
                      'Each approver gets a request of their own; once this many approve, the others are closed.'
                    }
                    onChange={event =>
                      update(index, { atLeast: event.target.value })
                    }
                  />
                )}
              </Paper>
            </li>
          );
        })}
      </Box>
      {!disabled && (
        <Button
          size="small"
          disabled={stages.length >= TEXT_LIMITS.stages}
          onClick={() => props.onChange([...stages, emptyStage()], ['stages'])}
        >
          Add stage
        </Button>
      )}
      {errors.stages && (
        <Typography variant="body2" color="error" role="alert">
          {errors.stages}
        </Typography>
      )}
    </Box>
  );
}
