import type {
  ImContextLine,
  ImInstanceRequest,
} from '@im-approval/plugin-im-approval-node';

/** WeCom shows at most three summary lines in the approval list. */
const SUMMARY_LINES = 3;
const TEST_MARK = '测试/TEST';
/** The prefix sendTest gives a test approval's title, replaced by the mark WeCom's list shows. */
const TEST_TITLE = /^\[test\]\s*/i;

const valueOf = (context: ImContextLine[], kind: ImContextLine['kind']) =>
  context.find(line => line.kind === kind)?.value;

/**
 * The summary lines approvers see in WeCom's list, uncut: the title (marked 测试/TEST for a test),
 * the request's note, then who asked and where it goes (repository@ref, else the environment); the
 * fields fill what is left when the request has no context.
 */
export function summaryLines(request: ImInstanceRequest): string[] {
  const title = request.test
    ? `${TEST_MARK} ${request.title.replace(TEST_TITLE, '')}`
    : request.title;
  const context = request.context ?? [];
  const requester = valueOf(context, 'requester');
  const repository = valueOf(context, 'repository');
  const ref = valueOf(context, 'ref');
  const where = repository
    ? `${repository}${ref ? `@${ref}` : ''}`
    : valueOf(context, 'environment');
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
