import {
  createIntegrationRequestSchema,
  secretFieldsOf,
  updateIntegrationRequestSchema,
  type ConnectionMode,
  type CreateIntegrationRequest,
  type IntegrationView,
  type ProviderId,
  type UpdateIntegrationRequest,
} from '@im-approval/plugin-im-approval-common';
import {
  inMode,
  providerDescriptor,
  type ProviderField,
} from '../../providers';

/** What the IM app dialog edits: every input as text, as typed. */
export interface IntegrationFormState {
  id: string;
  title: string;
  provider: ProviderId;
  connectionMode: ConnectionMode;
  values: Record<string, string>;
}

/** A form's errors by field name, each a sentence beginning with the field's label; '' for the rest. */
export type FormErrors = Record<string, string>;

export function isSecretField(provider: ProviderId, field: string): boolean {
  return (secretFieldsOf(provider) as readonly string[]).includes(field);
}

/** The provider's fields the form's connection mode uses, in the order they are shown. */
export function fieldsInMode(form: IntegrationFormState): ProviderField[] {
  return providerDescriptor(form.provider).fields.filter(field =>
    inMode(field, form.connectionMode),
  );
}

export function newIntegrationForm(provider: ProviderId): IntegrationFormState {
  const descriptor = providerDescriptor(provider);
  return {
    id: '',
    title: '',
    provider,
    connectionMode: descriptor.connectionModes[0].value,
    values: { ...descriptor.defaults },
  };
}

/** An existing app's settings; secrets start empty ("leave empty to keep"). */
export function integrationFormFrom(
  view: IntegrationView,
): IntegrationFormState {
  const descriptor = providerDescriptor(view.provider);
  const stored = view as unknown as Record<string, unknown>;
  const values: Record<string, string> = {};
  for (const field of descriptor.fields) {
    const value = stored[field.name];
    values[field.name] =
      isSecretField(view.provider, field.name) ||
      value === undefined ||
      value === null
        ? ''
        : String(value);
  }
  return {
    id: view.id,
    title: view.title ?? '',
    provider: view.provider,
    connectionMode: view.connectionMode ?? descriptor.connectionModes[0].value,
    values,
  };
}

/** A whole app for POST /integrations, or for a saved one the PUT body (empty secrets kept). */
export type CheckedRequest =
  CreateIntegrationRequest | UpdateIntegrationRequest;

export type CheckedForm =
  { ok: true; request: CheckedRequest } | { ok: false; errors: FormErrors };

/**
 * Checks the form with the API's own schema: a new app as POST /integrations takes it, a saved one
 * as PUT /integrations/{id} does, where an empty secret is left out and so kept (the backend then
 * checks the whole app, its answer shown by `errorsFromMessage`). Only the fields of the chosen
 * connection mode are sent, empty ones left out; defaults belong to the backend.
 */
export function checkForm(
  form: IntegrationFormState,
  saved?: IntegrationView,
): CheckedForm {
  const request = body(form);
  const parsed = (
    saved ? updateIntegrationRequestSchema : createIntegrationRequestSchema
  ).safeParse(request);
  if (!parsed.success)
    return { ok: false, errors: errorsFromIssues(form, parsed.error.issues) };
  return {
    ok: true,
    request: request as CheckedRequest,
  };
}

function body(form: IntegrationFormState): Record<string, string> {
  const request: Record<string, string> = {
    provider: form.provider,
    connectionMode: form.connectionMode,
  };
  if (form.id.trim()) request.id = form.id.trim();
  if (form.title.trim()) request.title = form.title.trim();
  for (const field of fieldsInMode(form)) {
    const value = form.values[field.name]?.trim();
    if (value) request[field.name] = value;
  }
  return request;
}

/** The form's own inputs, beside the provider's fields. */
const FORM_LABELS: Record<string, string> = {
  id: 'ID',
  title: 'Title',
  provider: 'IM',
  connectionMode: 'Connection mode',
};

function labelOf(form: IntegrationFormState, name: string) {
  return (
    FORM_LABELS[name] ?? fieldsInMode(form).find(f => f.name === name)?.label
  );
}

/**
 * The schema's messages complete a sentence whose subject is the field ("is required", "must be a
 * number"), so each is shown under its field after the field's label; the first problem of a field
 * is enough to fix it.
 */
function errorsFromIssues(
  form: IntegrationFormState,
  issues: ReadonlyArray<{ path: readonly PropertyKey[]; message: string }>,
): FormErrors {
  const errors: FormErrors = {};
  const general: string[] = [];
  for (const issue of issues) {
    const name = issue.path.length > 0 ? String(issue.path[0]) : '';
    const label = labelOf(form, name);
    if (!label) general.push(name ? `${name} ${issue.message}` : issue.message);
    else errors[name] ??= `${label} ${issue.message}`;
  }
  if (general.length > 0) errors[''] = general.join('; ');
  return errors;
}

/**
 * The backend's 400 names each field as `body.<field>: <what it needs>`, joined by "; " (a message
 * may hold "; " itself, so only a "; " before the next `body.` separates them). Anything else is
 * returned under ''.
 */
export function errorsFromMessage(
  form: IntegrationFormState,
  message: string,
): FormErrors {
  const parts = message.split(/; (?=body\.)/);
  const issues = parts.map(part => {
    const match = /^body\.([A-Za-z]+)[^:]*: (.*)$/s.exec(part);
    return match
      ? { path: [match[1]], message: match[2] }
      : { path: [], message: part };
  });
  return issues.every(issue => issue.path.length === 0)
    ? { '': message }
    : errorsFromIssues(form, issues);
}
