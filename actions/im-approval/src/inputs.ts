import {
  approvalStatusSchema,
  describeZodError,
  durationSchema,
  templateNameSchema,
  type TerminalStatus,
} from '@im-approval/plugin-im-approval-common';
import { z } from 'zod';

export const INPUT_NAMES = [
  'backstage-url',
  'template',
  'title',
  'variables',
  'approvers',
  'timeout',
  'auth',
  'token',
  'audience',
  'fail-on',
  'approval-id',
  'wait',
] as const;
export type InputName = (typeof INPUT_NAMES)[number];

const FAILING_STATUSES = approvalStatusSchema.exclude([
  'pending',
  'approved',
]).options;
type FailingStatus = Exclude<TerminalStatus, 'approved'>;

/** An input left empty is absent; others are trimmed, then checked. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess(
    value => (typeof value === 'string' ? value.trim() || undefined : value),
    schema.optional(),
  );

/** Lines or commas; blank entries dropped. */
const list = (text: string) =>
  text
    .split(/[\n,]/)
    .map(item => item.trim())
    .filter(Boolean);

/** YAML 1.2 core booleans, as `core.getBooleanInput` reads them. */
const booleanInput = z
  .string()
  .trim()
  .transform((value, ctx) => {
    if (['true', 'True', 'TRUE'].includes(value)) return true;
    if (['false', 'False', 'FALSE'].includes(value)) return false;
    ctx.addIssue({
      code: 'custom',
      message: `expected true or false, got "${value}"`,
    });
    return z.NEVER;
  });

/** One `name=value` per line; blank lines and `#` comments ignored; the value may contain `=`. */
const variablesInput = z.string().transform((text, ctx) => {
  const variables: Record<string, string> = {};
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const match = /^([A-Za-z_][A-Za-z0-9_-]*)\s*=(.*)$/.exec(line);
    if (!match) {
      ctx.addIssue({
        code: 'custom',
        message: `line ${index + 1}: expected name=value, got "${line}"`,
      });
      return;
    }
    variables[match[1]] = match[2].trim();
  });
  return variables;
});

const failOnInput = z
  .string()
  .transform(list)
  .transform((items, ctx): FailingStatus[] => {
    if (items.length === 1 && items[0] === 'none') return [];
    const unknown = items.filter(
      item => !(FAILING_STATUSES as readonly string[]).includes(item),
    );
    if (unknown.length > 0 || items.length === 0) {
      ctx.addIssue({
        code: 'custom',
        message: `expected "none" or a list of ${FAILING_STATUSES.join(', ')}${unknown.length ? `; got "${unknown.join(', ')}"` : ''}`,
      });
      return z.NEVER;
    }
    return [...new Set(items)] as FailingStatus[];
  });

const backstageUrlInput = z
  .string()
  .trim()
  .pipe(
    z.url({
      protocol: /^https?$/,
      error: 'expected the http(s) URL of the Backstage backend',
    }),
  )
  .transform(url => {
    const base = url.replace(/\/+$/, '');
    return base.endsWith('/api/im-approval') ? base : `${base}/api/im-approval`;
  });

export const inputsSchema = z
  .object({
    'backstage-url': backstageUrlInput,
    template: optional(templateNameSchema),
    title: optional(z.string().max(200, 'expected at most 200 characters')),
    variables: variablesInput,
    approvers: z.string().transform(list),
    timeout: optional(durationSchema),
    auth: z
      .string()
      .trim()
      .pipe(z.enum(['oidc', 'token'], 'expected oidc or token')),
    token: optional(z.string()),
    audience: z
      .string()
      .trim()
      .min(1, 'expected the audience the backend accepts'),
    'fail-on': failOnInput,
    'approval-id': optional(z.uuid('expected the id of an approval (a UUID)')),
    wait: booleanInput,
  })
  .superRefine((inputs, ctx) => {
    if (!inputs['approval-id'] && !inputs.template) {
      ctx.addIssue({
        code: 'custom',
        path: ['template'],
        message: 'required unless approval-id is given',
      });
    }
    if (inputs.auth === 'token' && !inputs.token) {
      ctx.addIssue({
        code: 'custom',
        path: ['token'],
        message: 'required when auth is token',
      });
    }
    if (inputs['approval-id'] && !inputs.wait) {
      ctx.addIssue({
        code: 'custom',
        path: ['wait'],
        message: 'must be true with approval-id (there is nothing to create)',
      });
    }
  })
  .transform(inputs => ({
    apiUrl: inputs['backstage-url'],
    template: inputs.template,
    title: inputs.title,
    variables: inputs.variables,
    approvers: inputs.approvers.length > 0 ? inputs.approvers : undefined,
    timeoutSeconds: inputs.timeout,
    auth: inputs.auth,
    token: inputs.token,
    audience: inputs.audience,
    failOn: inputs['fail-on'],
    approvalId: inputs['approval-id'],
    wait: inputs.wait,
  }));
export type ActionInputs = z.output<typeof inputsSchema>;

export class InputError extends Error {}

/**
 * Reads and validates every input; throws an `InputError` naming each bad input and what it
 * accepts. Defaults come from action.yml, so an absent input is an empty string here.
 */
export function readInputs(
  getInput: (name: InputName) => string,
): ActionInputs {
  const raw = Object.fromEntries(
    INPUT_NAMES.map(name => [name, getInput(name)]),
  );
  const result = inputsSchema.safeParse(raw);
  if (!result.success) throw new InputError(describeZodError(result.error));
  return result.data;
}
