import {
  existingFormOf,
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

/** How approvers are written, under each approvers input. */
export const APPROVERS_HELP =
  'Catalog users and groups (user:default/alice, group:default/release-managers), or IM user ids, emails or mobiles; one per line or separated by commas.';

/** One stage as typed: its approvers one per line or comma, like a template's. */
export interface StageFormState {
  name: string;
  approvers: string;
  /** `atLeast`: the number typed in `atLeast` must approve, instead of all or any one. */
  rule: 'all' | 'any' | 'atLeast';
  atLeast: string;
}

/** What the template dialog edits, every input as typed; lists are one entry per line or comma. */
export interface TemplateFormState {
  name: string;
  description: string;
  integration: string;
  /** An existing IM form named by `form`, or one the backend creates in the IM. */
  formSource: 'existing' | 'create';
  form: string;
  title: string;
  fields: FieldMapping[];
  /** One group of approvers (`approvers`, `approverMode`), or several stages in order. */
  approval: 'single' | 'stages';
  approvers: string;
  approverMode: 'all' | 'any';
  stages: StageFormState[];
  /** CC recipients (抄送), written like approvers: told of each request, never asked to decide. */
  cc: string;
  /** Durations as typed (`2h`); empty for none. */
  remindAfter: string;
  escalateAfter: string;
  /** Written like approvers: who a request is escalated to after escalateAfter. */
  escalateTo: string;
  /** A Feishu group chat (chat_id) where each request gets a card; empty for none. */
  groupChat: string;
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
    formSource: 'existing',
    form: '',
    title: 'Approval for ${repository}',
    fields: [],
    approval: 'single',
    approvers: '',
    approverMode: 'any',
    stages: [],
    cc: '',
    remindAfter: '',
    escalateAfter: '',
    escalateTo: '',
    groupChat: '',
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
    formSource: existingFormOf(view) === undefined ? 'create' : 'existing',
    form: existingFormOf(view) ?? '',
    title: view.title,
    fields: Object.entries(view.fields).map(([field, value]) => ({
      field,
      value,
    })),
    approval: view.stages ? 'stages' : 'single',
    approvers: (view.approvers ?? []).join('\n'),
    approverMode: view.approverMode,
    stages: (view.stages ?? []).map(stage => ({
      name: stage.name ?? '',
      approvers: stage.approvers.join('\n'),
      rule: stage.atLeast === undefined ? stage.rule : 'atLeast',
      atLeast: stage.atLeast === undefined ? '' : String(stage.atLeast),
    })),
    cc: view.cc.join('\n'),
    remindAfter:
      view.remindAfter === undefined ? '' : formatDuration(view.remindAfter),
    escalateAfter:
      view.escalateAfter === undefined
        ? ''
        : formatDuration(view.escalateAfter),
    escalateTo: (view.escalateTo ?? []).join('\n'),
    groupChat: view.groupChat ?? '',
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
    form: form.formSource === 'create' ? { create: true } : form.form.trim(),
    title: form.title.trim(),
    fields: Object.fromEntries(
      form.fields
        .filter(row => row.field.trim())
        .map(row => [row.field.trim(), row.value]),
    ),
    ...(form.approval === 'stages'
      ? {
          stages: form.stages.map(stage => ({
            name: stage.name.trim() || undefined,
            approvers: list(stage.approvers) ?? [],
            ...(stage.rule === 'atLeast'
              ? { atLeast: Number(stage.atLeast.trim()) }
              : { rule: stage.rule }),
          })),
          // The schema refuses it with stages; the dialog disables it and says why.
          allowApproverOverride: false,
        }
      : {
          approvers: list(form.approvers) ?? [],
          approverMode: form.approverMode,
          allowApproverOverride: form.allowApproverOverride,
        }),
    cc: list(form.cc),
    remindAfter: form.remindAfter.trim() || undefined,
    escalateAfter: form.escalateAfter.trim() || undefined,
    escalateTo: list(form.escalateTo),
    groupChat: form.groupChat.trim() || undefined,
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

/** The key of a stage's input in the form's errors, as the API's schema reports it (`stages.1.approvers`). */
export function stageErrorKey(index: number, input: keyof StageFormState) {
  return `stages.${index}.${input}`;
}

/** What the schema's own words leave unclear for stages, said before it is asked. */
function stageErrors(form: TemplateFormState): Record<string, string> {
  if (form.approval !== 'stages') return {};
  if (form.stages.length === 0)
    return { stages: 'Add a stage, or choose one group of approvers.' };
  const errors: Record<string, string> = {};
  form.stages.forEach((stage, index) => {
    if (!list(stage.approvers))
      errors[stageErrorKey(index, 'approvers')] =
        `Stage ${index + 1} needs at least one approver.`;
    if (stage.rule === 'atLeast' && !/^[1-9][0-9]*$/.test(stage.atLeast.trim()))
      errors[stageErrorKey(index, 'atLeast')] =
        `Say how many of stage ${index + 1}'s approvers must approve: a whole number from 1.`;
  });
  return errors;
}

/** Checks the form with the API's schema (errors by field) and prepares POST or PUT. */
export function prepareSave(
  api: ImApprovalApi,
  form: TemplateFormState,
  savedName?: string,
): Prepared {
  const request = templateRequestFrom(form);
  const parsed = templateRequestSchema.safeParse(request);
  const errors = {
    ...(parsed.success ? {} : fieldErrors(parsed.error, ['stages'])),
    ...stageErrors(form),
  };
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    save: savedName
      ? () => api.updateTemplate(savedName, request)
      : () => api.createTemplate(request),
  };
}
