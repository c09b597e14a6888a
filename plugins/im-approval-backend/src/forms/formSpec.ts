import {
  stagesOf,
  type Template,
} from '@im-approval/plugin-im-approval-common';
import type { ImFormSpec } from '@im-approval/plugin-im-approval-node';
import { createHash } from 'node:crypto';
import { isContextField } from '../providers/formFields';

/** The field every made form gets for what approvers are told whatever the template maps. */
const CONTEXT_FIELD = 'Context';

/**
 * What the IM form of a template with `form: { create: true }` must hold: its fields, a Context
 * field unless it maps one itself, and one node per stage.
 */
export function formSpecOf(template: Template): ImFormSpec {
  const fields = Object.keys(template.fields);
  return {
    name: template.name,
    ...(template.description ? { description: template.description } : {}),
    fields: fields.some(isContextField) ? fields : [...fields, CONTEXT_FIELD],
    // A stage that counts gives each approver a request of their own: the form has one node.
    stages: stagesOf(template).some(stage => stage.atLeast !== undefined)
      ? [{ rule: 'all' }]
      : stagesOf(template).map(stage => ({
          ...(stage.name ? { name: stage.name } : {}),
          rule: stage.rule,
        })),
  };
}

/** A spec's fingerprint: a template whose spec hashes the same needs no update of its form. */
export function specHash(spec: ImFormSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex');
}
