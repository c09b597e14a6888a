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
  return text.max(max, `expected at most ${max} characters`).refine(hasNoNul, NUL_MESSAGE);
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
} as const;

/**
 * Reports every string (or object key) in `value` that holds a NUL, at its path: for parts of a
 * request whose schemas live elsewhere but whose values end up in the database.
  *
  * @public
 */
export function refuseNulAnywhere(value: unknown, ctx: z.RefinementCtx, path: PropertyKey[] = []): void {
  if (typeof value === 'string') {
    if (!hasNoNul(value)) ctx.addIssue({ code: 'custom', path, message: NUL_MESSAGE });
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => refuseNulAnywhere(item, ctx, [...path, index]));
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (!hasNoNul(key)) ctx.addIssue({ code: 'custom', path: [...path, key], message: `the name ${NUL_MESSAGE}` });
      else refuseNulAnywhere(item, ctx, [...path, key]);
    }
  }
}
