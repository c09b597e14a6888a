import type { FormValue } from '@im-approval/plugin-im-approval-common';
import {
  ImApiError,
  type ImFormField,
} from '@im-approval/plugin-im-approval-node';

/** The form field a template names, by id or else by name; an error listing the form's fields otherwise. */
function findField(
  fields: ImFormField[],
  field: string,
  form: string,
): ImFormField {
  const found =
    fields.find(f => f.id === field) ?? fields.find(f => f.name === field);
  if (!found) {
    throw new ImApiError(
      'invalid_request',
      `${form} has no field "${field}" (fields: ${fields.map(f => f.name || f.id).join(', ')})`,
    );
  }
  return found;
}

/**
 * Each value of a request with the IM form field it fills, and the IM's label of each field filled,
 * by the field as the request names it (for the approval page: the label is what approvers see).
 */
export function fillForm(
  fields: ImFormField[],
  values: FormValue[],
  form: string,
): {
  filled: Array<{ imField: ImFormField; value: string }>;
  labels: Map<string, string>;
} {
  const labels = new Map<string, string>();
  const filled = values.map(({ field, value }) => {
    const imField = findField(fields, field, form);
    if (imField.name) labels.set(field, imField.name);
    return { imField, value };
  });
  return { filled, labels };
}
