import {
  ImApiError,
  type ImFormField,
} from '@im-approval/plugin-im-approval-node';

/** The form field a template names, by id or else by name; an error listing the form's fields otherwise. */
export function findField(
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
