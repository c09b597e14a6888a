import { z } from 'zod';

/**
 * PostgreSQL's text and varchar cannot hold U+0000, so no stored string may contain it.
 *
 * @public
 */
export const NUL_MESSAGE = 'must not contain the NUL character (U+0000)';

/** @public */
export function hasNoNul(value: string): boolean {
  return !value.includes('\u0000');
}

/**
 * A string the database can store: at most `max` characters (the column's size, or a bound that
 * keeps a stored setting or an IM request sane) and no NUL; `min` characters at least when given.
 *
 * @public
 */
export function storableText(max: number, options: { min?: number } = {}) {
  const text = options.min ? z.string().min(options.min) : z.string();
  return text
    .max(max, `expected at most ${max} characters`)
    .refine(hasNoNul, NUL_MESSAGE);
}

/**
 * Sizes of the settings columns (see the backend's migrations) and bounds of the texts stored beside them.
 *
 * @public
 */
export const TEXT_LIMITS = {
  /** im_approval_integrations.id, im_approval_templates.integration_id: varchar(64). */
  integrationId: 64,
  /** im_approval_templates.name: varchar(100). */
  templateName: 100,
  /** A name for people: an integration's or template's title. */
  title: 200,
  description: 2000,
  /** An IM user id, email or mobile; im_approval_approvals.decided_by is varchar(255). */
  person: 255,
  /** An IM app id, corp id or key. */
  appId: 255,
  /** A secret, token or key from an IM console. */
  secret: 1024,
  url: 2048,
  /** An IM form field's name or id. */
  fieldName: 255,
  /** A template's text for one IM form field, before its `${…}` are filled in. */
  fieldText: 4000,
  /** A glob in a template's policy. */
  pattern: 255,
  /** How many approvers, fields or policy patterns a template may list. */
  listItems: 100,
  /** A stage's name, as approvers see it on the IM's node ("Team lead"). */
  stageName: 80,
  /** How many stages a template may have: DingTalk takes at most 20 approver steps. */
  stages: 20,
} as const;

/**
 * Where the first string (or object key) in `value` that holds a NUL is, as a path of keys (a key
 * holding one is shown with `\\0`); undefined when there is none. Iterative, so no nesting, however
 * deep, overflows it.
 *
 * @public
 */
export function nulPathIn(value: unknown): string[] | undefined {
  // Each pending value keeps a link to its parent's step, so a path is spelled out only when found.
  interface Step {
    key: string;
    parent?: Step;
  }
  const spell = (step: Step | undefined): string[] => {
    const path: string[] = [];
    for (let at = step; at; at = at.parent) path.push(at.key);
    return path.reverse();
  };
  const pending: Array<[unknown, Step | undefined]> = [[value, undefined]];
  while (pending.length > 0) {
    const [item, step] = pending.pop()!;
    if (typeof item === 'string') {
      if (!hasNoNul(item)) return spell(step);
    } else if (item !== null && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) {
        if (!hasNoNul(key))
          return [...spell(step), key.replaceAll('\u0000', '\\0')];
        pending.push([child, { key, parent: step }]);
      }
    }
  }
  return undefined;
}

/**
 * Refuses a NUL anywhere in `value`, at its path: for parts of a request whose schemas live
 * elsewhere but whose values end up in the database.
 *
 * @public
 */
export function refuseNulAnywhere(value: unknown, ctx: z.RefinementCtx): void {
  const path = nulPathIn(value);
  if (path) ctx.addIssue({ code: 'custom', path, message: NUL_MESSAGE });
}

/**
 * Text from people or IMs (a display name, a comment) as one line: line breaks, NUL and the other
 * control characters become a space, lone surrogates are made well-formed, and it is cut to `max`
 * characters with an ellipsis. Wherever it is shown next (an IM title, a log line, a GitHub
 * comment), it cannot start a line of its own.
 *
 * @public
 */
export function oneLine(text: string, max = Infinity): string {
  const line = text
    .toWellFormed()
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ');
  const chars = [...line];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : line;
}
