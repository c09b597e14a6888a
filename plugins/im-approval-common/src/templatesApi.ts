import { z } from 'zod';
import { variablesSchema } from './approvals';
import { runContextSchema } from './context';
import { settingsSourceSchema } from './settingsSource';
import { templateSchema } from './templates';
import { refuseNulAnywhere, storableText } from './text';

/**
 * POST /templates, and PUT /templates/{name} (whose body names the same template: names never change).
 *
 * @public
 */
export const templateRequestSchema = templateSchema.meta({
  id: 'TemplateRequest',
});
/** @public */
export type TemplateRequest = z.input<typeof templateRequestSchema>;

/**
 * The IM form the backend made for a template with `form: { create: true }`, as last saved and checked.
 *
 * @public
 */
export const managedFormSchema = z
  .object({
    /** Feishu approval_code, DingTalk processCode, WeCom template_id. */
    formId: z.string(),
    /** The form in the IM's console, where the IM has such a link. */
    url: z.string().nullable(),
    integration: z.string(),
    savedAt: z.iso.datetime(),
    checkedAt: z.iso.datetime(),
    /** How the form in the IM differs from the template (someone edited it there); empty when it matches. */
    drift: z.array(z.string()),
  })
  .meta({ id: 'ManagedForm' });
/** @public */
export type ManagedForm = z.infer<typeof managedFormSchema>;

/** @public */
export const templateViewSchema = templateSchema
  .safeExtend({
    source: settingsSourceSchema,
    /** False for templates from app-config: they change only there. */
    editable: z.boolean(),
    /** For `form: { create: true }`: the form made in the IM; null until it is made. Absent otherwise. */
    managedForm: managedFormSchema.nullable().optional(),
  })
  .meta({ id: 'TemplateView' });
/** @public */
export type TemplateView = z.output<typeof templateViewSchema>;

/** @public */
export const templateListSchema = z
  .object({ items: z.array(templateViewSchema) })
  .meta({ id: 'TemplateList' });
/** @public */
export type TemplateList = z.output<typeof templateListSchema>;

/**
 * POST /templates/{name}/test: opens a real approval, marked as a test, on behalf of the signed-in
 * user. Variables and run context the template uses but the request leaves out get sample values.
 *
 * @public
 */
export const testTemplateRequestSchema = z
  .object({
    variables: variablesSchema,
    context: runContextSchema.partial().optional(),
    title: storableText(200, { min: 1 }).optional(),
  })
  // The variables and the context become the test approval's stored title, form and context.
  .superRefine(refuseNulAnywhere)
  .meta({ id: 'TestTemplateRequest' });
/** @public */
export type TestTemplateRequest = z.input<typeof testTemplateRequestSchema>;
