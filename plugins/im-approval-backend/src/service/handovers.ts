import type { ImHandover } from '@im-approval/plugin-im-approval-node';

/**
 * What a decision's timeline event says of tasks handed on and approvers added in the IM, so the
 * audit trail shows how the person who decided came to decide. Empty when nothing was handed over.
 * Names and comments are the IM's text, quoted: a line break in one shows as `\n`.
 */
export function describeHandovers(
  provider: string,
  handovers: ImHandover[] = [],
): string {
  if (handovers.length === 0) return '';
  const names = (people: ImHandover['to']) =>
    people.map(person => JSON.stringify(person.name)).join(', ');
  const each = handovers.map(handover => {
    const from = handover.from ? `${JSON.stringify(handover.from.name)} ` : '';
    const comment = handover.comment
      ? ` (${JSON.stringify(handover.comment)})`
      : '';
    // Some IMs say who handed a task on but not to whom.
    const to = handover.to.length > 0 ? ` to ${names(handover.to)}` : ' on';
    return handover.kind === 'transferred'
      ? `${from}handed the task${to}${comment}`
      : `${from}added ${handover.to.length > 0 ? `${names(handover.to)} as approvers` : 'approvers'}${comment}`;
  });
  return `in ${provider}: ${each.join('; ')}`;
}

/** A timeline message followed by what the decided instances tell of hand-overs, if anything. */
export function withHandovers(
  message: string | undefined,
  provider: string,
  states: Array<{ handovers?: ImHandover[] }>,
): string | undefined {
  const told = states.map(state =>
    describeHandovers(provider, state.handovers),
  );
  return [message, ...told].filter(Boolean).join('; ') || undefined;
}
