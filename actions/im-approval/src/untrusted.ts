/** C0 controls but tab, DEL, C1 controls (NEL among them), and the Unicode line and paragraph separators. */
const LINE_BREAKS_AND_CONTROLS =
  // eslint-disable-next-line no-control-regex -- matching control characters is what this pattern is for
  /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g;
const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r' };

/**
 * Text the Action did not write itself (what an approver typed in the IM, names and titles from
 * the backend, its error messages, an IM's revoke message, what a proxy answered), made safe to
 * print in the step's log: the runner never reads it as a workflow command.
 *
 * The runner takes a line whose first non-blank characters are `::` as a command
 * (`::add-mask::…`, `::warning::…`, `::stop-commands::…`), and the older `##[name]…` anywhere in a
 * line. So the text stays on the line the Action started: line breaks and other control characters
 * are written as escapes (`\n`, `\u001b`), `##[` is broken up, and a leading `::` is escaped in case
 * the text starts a line.
 *
 * Chosen over wrapping prints in `::stop-commands::<token>`: that adds two lines around every
 * print, and a line break in the text would still print as a line of its own that reads like the
 * Action's (a fake "Approved by …"). Escaped, a value is one visible line. Applying it twice changes
 * nothing, so a message built from escaped parts can be passed through it again.
 */
export function untrusted(text: string): string {
  return text
    .replace(
      LINE_BREAKS_AND_CONTROLS,
      c => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    )
    .replace(/##\[/g, '## [')
    .replace(/^(\s*)::/, '$1\\::');
}
