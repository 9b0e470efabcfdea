/** Evaluates one attribute expression, turning evaluation errors into diagnostics (undefined when it failed). */

import type { EvalContext } from '../../../hcl/eval/context.ts';
import { evaluate } from '../../../hcl/eval/evaluate.ts';
import { HclEvalError, type Value } from '../../../hcl/eval/values.ts';
import { type Diagnostic, error, type SourceRange } from '../../../template/diagnostics.ts';

export function evalAttr(
  expr: Parameters<typeof evaluate>[0],
  ctx: EvalContext,
  diagnostics: Diagnostic[],
): Value | undefined {
  try {
    return evaluate(expr, ctx);
  } catch (e) {
    if (e instanceof HclEvalError) {
      diagnostics.push(e.diagnostic);
      return undefined;
    }
    if (e instanceof RangeError) {
      // Deep recursion in hostile input: a diagnostic, not a crash.
      diagnostics.push(error('Expression too complex', e.message, expr.range));
      return undefined;
    }
    throw e;
  }
}

/**
 * A value that does not convert to the Go field Packer decodes an attribute into itself (gohcl: `name`, `only`,
 * `max_retries`, a build's `sources` ...), in gohcl's words; component options use hcldec's wording instead.
 */
export function unsuitableValue(message: string, range: SourceRange | undefined): Diagnostic {
  return error('Unsuitable value type', `Unsuitable value: ${message}`, range);
}
