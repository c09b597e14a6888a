import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { parseOrRefuse } from '../validation';
import { WecomApiError, WecomCode } from './errors';
import type { WecomApp, WecomState, WecomTemplate } from './state';
import { templateNotFound } from './workflow';

// oa/approval/create_template and update_template: an app makes approval templates of its own and
// changes them later, under WeCom's rules (template and control names at most 40 characters and
// unique, names as [{text, lang: "zh_CN"}], control ids "<control>-<digits>" unique in the
// template, the control vocabulary below). Only the app that made a template may update it;
// templates an administrator made in the console are not any app's.

/** The control types create_template takes. */
export const WECOM_CONTROL_TYPES = [
  'Text',
  'Textarea',
  'Number',
  'Money',
  'Date',
  'Selector',
  'Contact',
  'Tips',
  'File',
  'Table',
  'Location',
  'RelatedApproval',
  'DateRange',
  'PhoneNumber',
  'Vacation',
  'Attendance',
  'BankAccount',
] as const;
/** The ones requests in the sandbox can fill (value.text). */
const SANDBOX_CONTROLS = ['Text', 'Textarea'] as const;

const NAME_MAX = 40;
const PLACEHOLDER_MAX = 80;

const characters = (text: string) => [...text].length;

/** A multilingual text: a zh_CN entry is required ("zh-CN" is a common mistake WeCom refuses). */
const zhTexts = (max: number, what: string) =>
  z
    .array(z.object({ text: z.string(), lang: z.string() }))
    .min(1)
    .superRefine((texts, ctx) => {
      const zh = texts.find(entry => entry.lang === 'zh_CN');
      if (!zh)
        ctx.addIssue({
          code: 'custom',
          message: `needs an entry with lang "zh_CN" (not "zh-CN"); got ${texts.map(entry => JSON.stringify(entry.lang)).join(', ')}`,
        });
      for (const entry of texts) {
        if (entry.text.trim() === '')
          ctx.addIssue({
            code: 'custom',
            message: `${what} must not be empty`,
          });
        else if (characters(entry.text) > max)
          ctx.addIssue({
            code: 'custom',
            message: `${what} "${entry.text}" is longer than ${max} characters`,
          });
      }
    });

const controlSchema = z.object({
  property: z.object({
    control: z.enum(WECOM_CONTROL_TYPES, {
      error: issue =>
        `unknown control type ${JSON.stringify(issue.input)}; WeCom takes ${WECOM_CONTROL_TYPES.join(', ')}`,
    }),
    id: z.string().min(1),
    title: zhTexts(NAME_MAX, 'control name'),
    placeholder: z
      .array(z.object({ text: z.string(), lang: z.string() }))
      .optional()
      .refine(
        texts =>
          (texts ?? []).every(
            entry => characters(entry.text) <= PLACEHOLDER_MAX,
          ),
        `control description longer than ${PLACEHOLDER_MAX} characters`,
      ),
    require: z.union([z.literal(0), z.literal(1)]).optional(),
    un_print: z.union([z.literal(0), z.literal(1)]).optional(),
  }),
  config: z.looseObject({}).optional(),
});

const templateBodySchema = z.object({
  template_name: zhTexts(NAME_MAX, 'template name'),
  template_content: z.object({ controls: z.array(controlSchema).min(1) }),
});
const createTemplateSchema = templateBodySchema;
const updateTemplateSchema = templateBodySchema.extend({
  template_id: z.string().min(1),
});
type TemplateBody = z.infer<typeof templateBodySchema>;

const zhText = (texts: Array<{ text: string; lang: string }>) =>
  (texts.find(entry => entry.lang === 'zh_CN') ?? texts[0]).text;

function invalid(detail: string) {
  return new WecomApiError(
    WecomCode.invalidParameter,
    `invalid parameter: ${detail}`,
  );
}

/** The rules that need the whole template (and the corp's other templates), on a parsed body. */
function templateOf(
  state: WecomState,
  body: TemplateBody,
  templateId: string,
): Pick<WecomTemplate, 'name' | 'controls'> {
  const name = zhText(body.template_name);
  const clash = [...state.templates.values()].find(
    other => other.name === name && other.templateId !== templateId,
  );
  if (clash)
    throw invalid(
      `template_name: a template named "${name}" already exists (${clash.templateId}); template names must be unique`,
    );
  const ids = new Set<string>();
  const titles = new Set<string>();
  const controls = body.template_content.controls.map(({ property }, index) => {
    const where = `template_content.controls[${index}].property`;
    if (!new RegExp(`^${property.control}-\\d+$`).test(property.id))
      throw invalid(
        `${where}.id: "${property.id}" is not a ${property.control} control id; ids are the control type, "-" and digits, such as "${property.control}-01"`,
      );
    if (ids.has(property.id))
      throw invalid(
        `${where}.id: "${property.id}" is used twice; control ids must be unique in a template`,
      );
    const title = zhText(property.title);
    if (titles.has(title))
      throw invalid(
        `${where}.title: "${title}" is used twice; control names must be unique in a template`,
      );
    ids.add(property.id);
    titles.add(title);
    const control = property.control;
    if (!(SANDBOX_CONTROLS as readonly string[]).includes(control))
      throw invalid(
        `${where}.control: ${control} controls are not supported by the sandbox (only ${SANDBOX_CONTROLS.join(' and ')})`,
      );
    return {
      control: control as (typeof SANDBOX_CONTROLS)[number],
      id: property.id,
      title,
      required: property.require === 1,
    };
  });
  return { name, controls };
}

/** WeCom's template ids: "C4" or "3W" and some 40 letters and digits. */
function newTemplateId(): string {
  const alphabet =
    'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const tail = [...randomBytes(38)]
    .map(byte => alphabet[byte % alphabet.length])
    .join('');
  return `C4${tail}`;
}

export function createTemplate(
  state: WecomState,
  app: WecomApp,
  request: unknown,
): WecomTemplate {
  const body = parseOrRefuse(createTemplateSchema, request, invalid);
  const templateId = newTemplateId();
  const template: WecomTemplate = {
    templateId,
    ...templateOf(state, body, templateId),
    creatorAgentId: app.agentId,
  };
  state.templates.set(templateId, template);
  return template;
}

/** Replaces the template's name and controls; its id, and the approval flow set in the console, stay. */
export function updateTemplate(
  state: WecomState,
  app: WecomApp,
  request: unknown,
): WecomTemplate {
  const body = parseOrRefuse(updateTemplateSchema, request, invalid);
  const existing = state.templates.get(body.template_id);
  if (!existing) throw templateNotFound(body.template_id);
  if (existing.creatorAgentId !== app.agentId)
    throw new WecomApiError(
      WecomCode.noApprovalAuth,
      existing.creatorAgentId === undefined
        ? `no approval auth: template ${existing.templateId} was made in the admin console; an app may update only the templates it created`
        : `no approval auth: template ${existing.templateId} was created by app ${existing.creatorAgentId}; an app may update only the templates it created`,
    );
  Object.assign(existing, templateOf(state, body, existing.templateId));
  return existing;
}
