import type { FormField } from '@im-approval/plugin-im-approval-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import IconButton from '@material-ui/core/IconButton';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import DeleteIcon from '@material-ui/icons/Delete';
import type { FieldMapping } from './templateForm';

/**
 * IM form field ← text with `${…}` variables, one row each. With the IM form's fields loaded, the
 * field is picked from them and required fields without a row are named.
 */
export function FieldMappingEditor(props: {
  rows: FieldMapping[];
  imFields?: FormField[];
  /** What a row's field is: an existing form's field, or the label of one the backend creates. */
  fieldLabel: string;
  disabled: boolean;
  error?: string;
  onChange: (rows: FieldMapping[]) => void;
}) {
  const { rows, imFields, disabled } = props;
  const update = (index: number, change: Partial<FieldMapping>) =>
    props.onChange(
      rows.map((row, i) => (i === index ? { ...row, ...change } : row)),
    );
  const mapped = new Set(rows.map(row => row.field));
  const missingRequired = (imFields ?? []).filter(
    field => field.required && !mapped.has(field.id) && !mapped.has(field.name),
  );

  return (
    <Box>
      <Typography variant="subtitle2">Field mapping</Typography>
      {rows.map((row, index) => (
        <Box key={index} display="flex" alignItems="center" style={{ gap: 8 }}>
          <TextField
            id={`mapping-field-${index}`}
            select={Boolean(imFields)}
            margin="dense"
            label={props.fieldLabel}
            style={{ minWidth: 200 }}
            value={row.field}
            disabled={disabled}
            onChange={event => update(index, { field: event.target.value })}
          >
            {imFields?.map(field => (
              <MenuItem key={field.id} value={field.id}>
                {field.name} ({field.type}
                {field.required ? ', required' : ''})
              </MenuItem>
            ))}
            {/* A field named rather than given by id, as app-config allows. */}
            {imFields &&
              row.field &&
              !imFields.some(field => field.id === row.field) && (
                <MenuItem value={row.field}>{row.field}</MenuItem>
              )}
          </TextField>
          <Typography aria-hidden>←</Typography>
          <TextField
            id={`mapping-text-${index}`}
            margin="dense"
            fullWidth
            label="Text"
            placeholder="${vars.service} from ${repository}"
            value={row.value}
            disabled={disabled}
            onChange={event => update(index, { value: event.target.value })}
          />
          {!disabled && (
            <IconButton
              aria-label={`Remove field ${index + 1}`}
              onClick={() => props.onChange(rows.filter((_, i) => i !== index))}
            >
              <DeleteIcon />
            </IconButton>
          )}
        </Box>
      ))}
      {!disabled && (
        <Button
          size="small"
          onClick={() => props.onChange([...rows, { field: '', value: '' }])}
        >
          Add field
        </Button>
      )}
      {missingRequired.length > 0 && (
        <Typography variant="body2" color="error">
          Required by the IM form but not mapped:{' '}
          {missingRequired.map(field => field.name).join(', ')}
        </Typography>
      )}
      {props.error && (
        <Typography variant="body2" color="error">
          {props.error}
        </Typography>
      )}
    </Box>
  );
}
