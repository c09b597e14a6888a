/** A stage as people know it: its own name, or its place ("Stage 2"). */
export function stageTitle(stage: { name?: string | null }, index: number) {
  return stage.name || `Stage ${index + 1}`;
}

/** A stage's rule (or a template's approverMode) in words; a counted stage says how many. */
export function ruleText(rule: 'all' | 'any', atLeast?: number | null) {
  if (atLeast) return `at least ${atLeast} of them approve`;
  return rule === 'all' ? 'all of them approve' : 'any one of them approves';
}
