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
import type { ImApprovalApi } from '../../api/ImApprovalApi';
import { providerDescriptor } from '../../providers';
import { fieldErrors } from '../shared/fieldErrors';

/** What the IM app dialog edits: every input as text, as typed. */
export interface IntegrationFormState {
  id: string;
  title: string;
  provider: ProviderId;
  connectionMode: ConnectionMode;
  values: Record<string, string>;
}

export function isSecretField(provider: ProviderId, field: string): boolean {
  return (secretFieldsOf(provider) as readonly string[]).includes(field);
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

type Prepared =
  | { ok: true; save: () => Promise<IntegrationView> }
  | { ok: false; errors: Record<string, string> };

/**
 * Checks the form with the API's own schema and prepares the call: POST /integrations for a new
 * app, PUT /integrations/{id} for a saved one, where an empty secret is left out and so kept.
 * Empty inputs are left out; the body is sent as typed, since defaults belong to the backend.
 */
export function prepareSave(
  api: ImApprovalApi,
  form: IntegrationFormState,
  savedId?: string,
): Prepared {
  const request = body(form);
  const parsed = (
    savedId ? updateIntegrationRequestSchema : createIntegrationRequestSchema
  ).safeParse(request);
  if (!parsed.success) return { ok: false, errors: fieldErrors(parsed.error) };
  return {
    ok: true,
    save: savedId
      ? () =>
          api.updateIntegration(savedId, request as UpdateIntegrationRequest)
      : () => api.createIntegration(request as CreateIntegrationRequest),
  };
}

function body(form: IntegrationFormState): Record<string, string> {
  const request: Record<string, string> = {
    id: form.id.trim(),
    provider: form.provider,
    connectionMode: form.connectionMode,
  };
  if (form.title.trim()) request.title = form.title.trim();
  for (const [name, value] of Object.entries(form.values)) {
    if (value.trim()) request[name] = value.trim();
  }
  return request;
}
