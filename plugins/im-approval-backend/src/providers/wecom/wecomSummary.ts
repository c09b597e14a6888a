import type { FormValue } from '@im-approval/plugin-im-approval-common';
import type {
  ImContextLine,
  ImFormField,
  ImInstanceRequest,
} from '@im-approval/plugin-im-approval-node';

/** WeCom shows at most three summary lines in the approval list. */
const SUMMARY_LINES = 3;
/** Labels of the control that takes the request's context, when the template does not fill it itself. */
const CONTEXT_LABELS = ['context', '背景', '详情'];
const TEST_MARK = '测试/TEST';

export const isContextLabel = (label: string) =>
  CONTEXT_LABELS.includes(label.trim().toLowerCase());

/**
 * The request's values, plus its context lines ("Label: value", one a line) in the template's
 * "Context" control when it has one the request does not fill already.
 */
export function withContext(
  controls: ImFormField[],
  fields: FormValue[],
  context: ImContextLine[],
): FormValue[] {
  if (context.length === 0) return fields;
  const control = controls.find(c => isContextLabel(c.name));
  if (!control) return fields;
  if (fields.some(f => f.field === control.id || f.field === control.name))
    return fields;
  const text = context
    .map(
      line =>
        `${line.label}: ${line.value}${line.url && line.url !== line.value ? ` ${line.url}` : ''}`,
    )
    .join('\n');
  return [...fields, { field: control.id, value: text }];
}

const valueOf = (context: ImContextLine[], label: RegExp) =>
  context.find(line => label.test(line.label))?.value;

/**
 * The summary lines approvers see in WeCom's list, uncut: the title (marked 测试/TEST for a test),
 * the request's note, then who asked and where it goes (repository@ref, else the environment); the
 * fields fill what is left when the request has no context.
 */
export function summaryLines(request: ImInstanceRequest): string[] {
  const title = request.test
    ? `${TEST_MARK} ${request.title.replace(/^\[TEST\]\s*/, '')}`
    : request.title;
  const context = request.context ?? [];
  const requester = valueOf(context, /request|asked|who/i);
  const repository = valueOf(context, /repo/i);
  const ref = valueOf(context, /^ref|branch|tag/i);
  const environment = valueOf(context, /env/i);
  const where = repository
    ? `${repository}${ref ? `@${ref}` : ''}`
    : environment;
  const fromContext = [
    ...(requester ? [requester] : []),
    ...(where ? [where] : []),
  ];
  const rest =
    fromContext.length > 0
      ? fromContext
      : request.fields.map(f => `${f.field}: ${f.value}`);
  return [title, ...(request.note ? [request.note] : []), ...rest].slice(
    0,
    SUMMARY_LINES,
  );
}
