import { Link } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  stagesOf,
  type ManagedForm,
  type TemplateStage,
  type TemplateView,
} from '@im-approval/plugin-im-approval-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import Typography from '@material-ui/core/Typography';
import WarningIcon from '@material-ui/icons/Warning';
import Alert from '@material-ui/lab/Alert';
import AlertTitle from '@material-ui/lab/AlertTitle';
import { useState } from 'react';
import useAsyncFn from 'react-use/esm/useAsyncFn';
import { imApprovalApiRef } from '../../api/ImApprovalApi';
import { httpUrl } from '../shared/httpUrl';
import { ErrorAlert } from '../shared/ErrorAlert';
import { ruleText, stageTitle } from '../shared/stages';
import { TitledDialog } from '../shared/TitledDialog';
import { formatTime } from '../shared/time';

/** The button's words: what pressing it does to the form in the IM. */
export function saveFormLabel(made: ManagedForm | null | undefined) {
  return made ? 'Update the form in the IM' : 'Create the form in the IM';
}

/** What the backend makes in the IM for a template with `form: { create: true }`, in words. */
export function FormPlan(props: {
  im: string;
  fields: string[];
  stages: Array<Pick<TemplateStage, 'name' | 'rule' | 'atLeast'>>;
}) {
  const { im, fields, stages } = props;
  return (
    <Typography variant="body2" paragraph>
      When the template is saved, the backend creates a form in {im}{' '}
      {fields.length > 0
        ? `with ${fields.length === 1 ? 'one text field' : `${fields.length} text fields`}, labelled as the field mapping names them (${fields.join(', ')}),`
        : 'with one text field per row of the field mapping, labelled as the row names it (none yet),'}{' '}
      a Context field, unless the mapping has one, telling approvers who asked,
      the repository, ref, commit, run and what changes since the last approved
      request, and{' '}
      {stages.length === 1
        ? 'one approver node'
        : `${stages.length} approver nodes, one per stage in order`}
      :{' '}
      {stages
        .map(
          (stage, index) =>
            `${stageTitle(stage, index)} (${ruleText(stage.rule, stage.atLeast)})`,
        )
        .join(', ')}
      . Each request names the people of each node. The backend keeps the form
      in step: saving the template again updates it in place (its id stays the
      same), and an edit made in the IM’s console is reported here until the
      form is updated from the template.
    </Typography>
  );
}

/** The form the backend made: its id (linked where the IM has a link), when saved and checked, and how it drifted. */
export function ManagedFormStatus(props: {
  managedForm: ManagedForm | null | undefined;
  /** In a table cell: the differences are counted, the dialog lists them. */
  compact?: boolean;
}) {
  const made = props.managedForm;
  if (!made)
    return (
      <Typography variant="body2" color="textSecondary">
        Not made in the IM yet.
      </Typography>
    );
  const url = httpUrl(made.url);
  const differences = made.drift.length;
  return (
    <Box>
      <Typography variant="body2" data-testid="managed-form-id">
        Made in the IM: form{' '}
        {url ? <Link to={url}>{made.formId}</Link> : made.formId}
      </Typography>
      <Typography variant="body2" color="textSecondary">
        saved {formatTime(made.savedAt)}, checked {formatTime(made.checkedAt)}
      </Typography>
      {differences > 0 &&
        (props.compact ? (
          <Box display="flex" alignItems="center" style={{ gap: 4 }}>
            {/* The words say it; the icon marks it out at a glance, in a colour text could not read in. */}
            <WarningIcon fontSize="small" color="error" aria-hidden />
            <Typography variant="body2">
              Changed in the IM: {differences}{' '}
              {differences === 1 ? 'difference' : 'differences'}
            </Typography>
          </Box>
        ) : (
          <Box mt={1}>
            <Alert severity="warning">
              <AlertTitle>
                The form in the IM no longer matches the template
              </AlertTitle>
              <ul style={{ margin: 0, paddingLeft: 20 }}>
                {made.drift.map(difference => (
                  <li key={difference}>{difference}</li>
                ))}
              </ul>
              Update the form in the IM to put it back as the template says.
            </Alert>
          </Box>
        ))}
    </Box>
  );
}

/** Creates or updates the IM form of a template with `form: { create: true }`, saying what it makes first. */
export function ManagedFormDialog(props: {
  template: TemplateView;
  /** The IM's name ("Feishu / Lark"). */
  im: string;
  onSaved: () => void;
  onClose: () => void;
}) {
  const api = useApi(imApprovalApiRef);
  const { template } = props;
  const [saved, setSaved] = useState<ManagedForm>();
  const [saving, save] = useAsyncFn(async () => {
    const made = await api.saveTemplateForm(template.name);
    setSaved(made);
    props.onSaved();
  }, [api, template.name, props.onSaved]);
  const made = saved ?? template.managedForm;
  return (
    <TitledDialog
      title={`The IM form of ${template.name}`}
      onClose={props.onClose}
      fullWidth
      maxWidth="md"
    >
      <DialogContent>
        <FormPlan
          im={props.im}
          fields={Object.keys(template.fields)}
          stages={stagesOf(template)}
        />
        <ManagedFormStatus managedForm={made} />
        {saved && (
          <Box mt={2}>
            <Alert severity="success">
              {template.managedForm ? 'Updated' : 'Created'} the form{' '}
              {saved.formId} in {props.im}.
            </Alert>
          </Box>
        )}
        <ErrorAlert error={saving.error} />
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onClose}>Close</Button>
        <Button
          color="primary"
          variant="contained"
          disabled={saving.loading}
          onClick={() => save()}
        >
          {saveFormLabel(made)}
        </Button>
      </DialogActions>
    </TitledDialog>
  );
}
