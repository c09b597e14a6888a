/** A stage as people know it: its own name, or its place ("Stage 2"). */
export function stageTitle(stage: { name?: string | null }, index: number) {
  return stage.name || `Stage ${index + 1}`;
}

/** A stage's rule (or a template's approverMode) in words. */
export function ruleText(rule: 'all' | 'any') {
  return rule === 'all' ? 'all of them approve' : 'any one of them approves';
}
