import {
  formatDuration,
  templateRequestSchema,
  type TemplateRequest,
  type TemplateView,
} from '@im-approval/plugin-im-approval-common';
import type { ImApprovalApi } from '../../api/ImApprovalApi';
import { fieldErrors } from '../shared/fieldErrors';

/** One row of the field mapping: an IM form field and the text sent to it. */
export interface FieldMapping {
  field: string;
  value: string;
}

/** What the template dialog edits, every input as typed; lists are one entry per line or comma. */
export interface TemplateFormState {
  name: string;
  description: string;
  integration: string;
  form: string;
  title: string;
  fields: FieldMapping[];
  approvers: string;
  approverMode: 'all' | 'any';
  allowApproverOverride: boolean;
  allowSelfApproval: boolean;
  defaultTimeout: string;
  maxTimeout: string;
  repositories: string;
  refs: string;
  environments: string;
}

export function newTemplateForm(integration = ''): TemplateFormState {
  return {
    name: '',
    description: '',
    integration,
    form: '',
    title: 'Approval for ${repository}',
    fields: [],
    approvers: '',
    approverMode: 'any',
    allowApproverOverride: false,
    allowSelfApproval: false,
    defaultTimeout: '1h',
    maxTimeout: '7d',
    repositories: '',
    refs: '',
    environments: '',
  };
}

export function templateFormFrom(view: TemplateView): TemplateFormState {
  return {
    name: view.name,
    description: view.description ?? '',
    integration: view.integration,
    form: view.form,
    title: view.title,
    fields: Object.entries(view.fields).map(([field, value]) => ({
      field,
      value,
    })),
    approvers: view.approvers.join('\n'),
    approverMode: view.approverMode,
    allowApproverOverride: view.allowApproverOverride,
    allowSelfApproval: view.allowSelfApproval,
    defaultTimeout: formatDuration(view.defaultTimeout),
    maxTimeout: formatDuration(view.maxTimeout),
    repositories: (view.policy.repositories ?? []).join('\n'),
    refs: (view.policy.refs ?? []).join('\n'),
    environments: (view.policy.environments ?? []).join('\n'),
  };
}

function list(text: string): string[] | undefined {
  const items = text
    .split(/[\n,]/)
    .map(item => item.trim())
    .filter(Boolean);
  return items.length > 0 ? items : undefined;
}

/** The request body: empty inputs left out, an empty policy list meaning "no restriction". */
export function templateRequestFrom(form: TemplateFormState): TemplateRequest {
  return {
    name: form.name.trim(),
    description: form.description.trim() || undefined,
    integration: form.integration,
    form: form.form.trim(),
    title: form.title.trim(),
    fields: Object.fromEntries(
      form.fields
        .filter(row => row.field.trim())
        .map(row => [row.field.trim(), row.value]),
    ),
    approvers: list(form.approvers) ?? [],
    approverMode: form.approverMode,
    allowApproverOverride: form.allowApproverOverride,
    allowSelfApproval: form.allowSelfApproval,
    defaultTimeout: form.defaultTimeout.trim(),
    maxTimeout: form.maxTimeout.trim(),
    policy: {
      repositories: list(form.repositories),
      refs: list(form.refs),
      environments: list(form.environments),
    },
  };
}

type Prepared =
  | { ok: true; save: () => Promise<TemplateView> }
  | { ok: false; errors: Record<string, string> };

/** Checks the form with the API's schema (errors by field) and prepares POST or PUT. */
export function prepareSave(
  api: ImApprovalApi,
  form: TemplateFormState,
  savedName?: string,
): Prepared {
  const request = templateRequestFrom(form);
  const parsed = templateRequestSchema.safeParse(request);
  if (!parsed.success) return { ok: false, errors: fieldErrors(parsed.error) };
  return {
    ok: true,
    save: savedName
      ? () => api.updateTemplate(savedName, request)
      : () => api.createTemplate(request),
  };
}
