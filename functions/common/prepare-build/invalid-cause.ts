/**
 * The failure cause of an invalid template, within what Step Functions keeps: a task failure's `Cause` holds at
 * most 32,768 characters, and a longer one would be cut mid-diagnostic. Whole diagnostics are kept in order
 * while they fit, then one line says how many were left out and how to see them all.
 */
import type { Diagnostic, FormatOptions } from '../../../core/template/diagnostics.ts';
import { formatDiagnostic } from '../../../core/template/diagnostics.ts';

/** Step Functions' limit on an error cause, in characters. */
export const MAX_CAUSE_CHARS = 32_768;

/** Room left for the error name, the JSON wrapping of the Lambda error and the closing line. */
const BUDGET = MAX_CAUSE_CHARS - 1_024;

export function invalidTemplateCause(
  errors: readonly Diagnostic[],
  options: FormatOptions,
  finish: (text: string) => string,
  budget = BUDGET,
): string {
  const kept: string[] = [];
  let length = 0;
  for (const d of errors) {
    const text = finish(formatDiagnostic(d, options));
    if (kept.length > 0 && length + text.length + 1 > budget) break;
    // A single diagnostic longer than the budget (a huge source line) is cut rather than dropped.
    kept.push(text.length > budget ? `${text.slice(0, budget - 1)}…` : text);
    length += text.length + 1;
  }
  const left = errors.length - kept.length;
  if (left > 0) {
    kept.push(
      `…and ${left} more error${left === 1 ? '' : 's'} not shown (a task failure cause holds ${MAX_CAUSE_CHARS} characters); run \`kiln validate\` on the template to see all of them.`,
    );
  }
  return kept.join('\n');
}
