import {
  oneLine,
  type FormValue,
} from '@im-approval/plugin-im-approval-common';
import {
  ImApiError,
  type ImContextLine,
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

/** The longest context line and link put in a form field: every IM takes this many lines of it. */
const CONTEXT_LINE_LIMIT = 200;
const CONTEXT_URL_LIMIT = 500;

/** Labels of the form field that takes a request's context (case and spaces aside). */
const CONTEXT_LABELS = ['context', '背景', '详情'];

/** Whether a form field, by its label, is the one that takes a request's context. */
export const isContextField = (label: string) =>
  CONTEXT_LABELS.includes(label.trim().toLowerCase());

/**
 * The request's values, and its context ("Label: value", one line each, its link after it) in the
 * form's context field when it has one the request does not fill itself; `title` first where the IM
 * shows no title of its own. Each line is made one line: text from outside (a ref, a name) never
 * adds lines or control characters of its own.
 */
export function withContext(
  fields: ImFormField[],
  values: FormValue[],
  context: ImContextLine[],
  options: { title?: string } = {},
): FormValue[] {
  const field = fields.find(f => isContextField(f.name));
  if ((context.length === 0 && !options.title) || !field) return values;
  if (values.some(v => v.field === field.id || v.field === field.name))
    return values;
  // Self-reported values (a ref, a run id in a link) have no length limit of their own: each line
  // is cut, and a link too long to be whole is left out, so no IM refuses the field for its size.
  const lines = context.map(line => {
    const text = oneLine(`${line.label}: ${line.value}`, CONTEXT_LINE_LIMIT);
    const link =
      line.url &&
      line.url !== line.value &&
      line.url.length <= CONTEXT_URL_LIMIT
        ? ` ${line.url}`
        : '';
    return text + link;
  });
  if (options.title) lines.unshift(oneLine(options.title, CONTEXT_LINE_LIMIT));
  const text = lines.join('\n');
  return [...values, { field: field.id, value: text }];
}
