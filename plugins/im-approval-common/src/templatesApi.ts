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

/** @public */
export const templateViewSchema = templateSchema
  .safeExtend({
    source: settingsSourceSchema,
    /** False for templates from app-config: they change only there. */
    editable: z.boolean(),
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
