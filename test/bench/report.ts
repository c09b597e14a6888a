// How the benchmark prints: each figure beside its budget (OK or OVER BUDGET) and its baseline
// from the same run; a summary of every budget at the end. Nothing is asserted.

export interface Budget {
  /** The figure must be at most (`<=`) or at least (`>=`) the limit. */
  op: '<=' | '>=';
  limit: number;
  /** How the budget reads, e.g. "≤ 8× bare round trip". */
  text: string;
}

interface Line {
  part: string;
  figure: string;
  value: string;
  budget?: Budget & { met: boolean };
  baseline?: string;
}

const lines: Line[] = [];
let currentPart = '';

export function section(part: string, title: string) {
  currentPart = part;
  console.log(`\n== ${part}: ${title}`);
}

export function note(text: string) {
  console.log(`   ${text}`);
}

/** One figure. `measured` is what the budget applies to (NaN: not measured, which never meets a budget). */
export function figure(
  name: string,
  value: string,
  options: { measured?: number; budget?: Budget; baseline?: string } = {},
) {
  let budget: Line['budget'];
  if (options.budget) {
    const measured = options.measured ?? NaN;
    const met =
      Number.isFinite(measured) &&
      (options.budget.op === '<='
        ? measured <= options.budget.limit
        : measured >= options.budget.limit);
    budget = { ...options.budget, met };
  }
  const line: Line = {
    part: currentPart,
    figure: name,
    value,
    budget,
    baseline: options.baseline,
  };
  lines.push(line);
  const verdict = budget
    ? `  [budget ${budget.text}: ${budget.met ? 'ok' : 'OVER BUDGET'}]`
    : '';
  console.log(`   ${name.padEnd(52)} ${value}${verdict}`);
  if (options.baseline)
    console.log(`   ${''.padEnd(52)}   baseline: ${options.baseline}`);
}

export function summary() {
  const budgeted = lines.filter(l => l.budget);
  console.log('\n== summary');
  for (const line of budgeted) {
    console.log(
      `   ${line.budget!.met ? 'ok         ' : 'OVER BUDGET'}  ${`${line.part}: ${line.figure}`.padEnd(60)} ${line.value}  (${line.budget!.text})`,
    );
  }
  const over = budgeted.filter(l => !l.budget!.met).length;
  console.log(
    `   ${budgeted.length - over} of ${budgeted.length} budgets met${over ? `, ${over} OVER BUDGET` : ''}`,
  );
}

export const ms = (value: number) => `${value.toFixed(1)} ms`;
export const ratio = (value: number) => `${value.toFixed(1)}×`;
