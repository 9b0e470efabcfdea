/**
 * Function calls: arity checks, `...` expansion, unknown short-circuit, and the three calls the evaluator
 * handles itself: `try`/`can` (lazy arguments, catch evaluation errors) and `convert` (a type argument).
 */

import type { SourceRange } from '../../template/diagnostics.ts';
import { currentBudget } from '../../template/limits.ts';
import { UnknownValue } from '../../template/model.ts';
import type { Expr } from '../syntax/ast.ts';
import type { EvalContext } from './context.ts';
import { evaluate } from './evaluate.ts';
import { didYouMean } from './suggest.ts';
import { convertValue, parseType } from './types.ts';
import { containsUnknown, fail, firstUnknown, HclEvalError, type Value } from './values.ts';

export function evalCall(expr: Extract<Expr, { kind: 'call' }>, ctx: EvalContext): Value {
  const name = expr.name;
  // try/can evaluate their arguments lazily, catching evaluation errors.
  if (name === 'try' || name === 'can') {
    if (name === 'can' && expr.args.length !== 1)
      fail('Invalid number of arguments', 'Function "can" expects 1 argument.', expr.range);
    if (name === 'try' && expr.args.length < 1)
      fail('Invalid number of arguments', 'Function "try" expects at least 1 argument.', expr.range);
    for (const arg of expr.args) {
      try {
        const v = evaluate(arg, ctx);
        if (name === 'can') return containsUnknown(v) ? new UnknownValue('can(...)') : true;
        return v;
      } catch (e) {
        if (!(e instanceof HclEvalError)) throw e;
      }
    }
    if (name === 'can') return false;
    return fail('Error in function call', 'Call to function "try" failed: no expression succeeded.', expr.range);
  }
  if (name === 'convert') return evalConvert(expr, ctx);
  const fn = ctx.functions.get(name);
  if (!fn) {
    const known = [...ctx.functions.keys(), 'try', 'can', 'convert'];
    return fail(
      'Call to unknown function',
      `There is no function named "${name}".${didYouMean(name, known)}`,
      expr.nameRange,
    );
  }
  let args = expr.args.map((a) => evaluate(a, ctx));
  let argRanges = expr.args.map((a) => a.range);
  if (expr.expandLast && args.length > 0) {
    const last = args[args.length - 1] as Value;
    if (last instanceof UnknownValue) return last;
    if (!Array.isArray(last))
      fail(
        'Invalid expanding argument value',
        'The expanding argument (indicated by ...) must be of a tuple, list, or set type.',
        expr.args[expr.args.length - 1]?.range,
      );
    const lastRange = argRanges[argRanges.length - 1] as SourceRange;
    args = [...args.slice(0, -1), ...last];
    argRanges = [...argRanges.slice(0, -1), ...last.map(() => lastRange)];
  }
  const max = fn.max === 'variadic' ? Number.POSITIVE_INFINITY : (fn.max ?? fn.min);
  if (args.length < fn.min || args.length > max) {
    const expected =
      fn.max === 'variadic' ? `at least ${fn.min}` : fn.min === max ? `${fn.min}` : `${fn.min} to ${max}`;
    fail(
      'Invalid number of arguments',
      `Function "${name}" expects ${expected} argument(s), got ${args.length}.`,
      expr.range,
    );
  }
  if (!fn.acceptsUnknown) {
    const u = firstUnknown(args);
    if (u) return new UnknownValue(`${name}(${u.source})`);
  }
  try {
    return checkResult(fn.impl(args, { name, range: expr.range, argRanges, ctx }), name, expr.range);
  } catch (e) {
    if (e instanceof HclEvalError) {
      const d = e.diagnostic;
      if (d.summary === 'Error in function call') throw e;
      fail(
        'Error in function call',
        `Call to function "${name}" failed: ${d.detail ?? d.summary}`,
        d.range ?? expr.range,
      );
    }
    if (e instanceof RangeError || e instanceof SyntaxError || e instanceof TypeError) {
      fail('Error in function call', `Call to function "${name}" failed: ${e.message}`, expr.range);
    }
    throw e;
  }
}

function evalConvert(expr: Extract<Expr, { kind: 'call' }>, ctx: EvalContext): Value {
  if (expr.args.length !== 2)
    fail('Invalid number of arguments', 'Function "convert" expects 2 arguments.', expr.range);
  const t = parseType(expr.args[1] as Expr, (e) => evaluate(e, ctx));
  if (!t.ok) return fail('Invalid type specification', t.message, t.range);
  const r = convertValue(evaluate(expr.args[0] as Expr, ctx), t.type);
  if (!r.ok)
    return fail('Invalid function argument', `Invalid value for "value" parameter: ${r.message}.`, expr.args[0]?.range);
  return r.value;
}

/** Function results count against the budget like literal values: their size, and one step per element. */
function checkResult(v: Value, name: string, range: SourceRange): Value {
  const budget = currentBudget();
  if (typeof v === 'string') budget.stringLength(v.length, `The result of ${name}()`, range);
  else if (Array.isArray(v)) budget.collection(v.length, `The result of ${name}()`, range);
  else if (v !== null && typeof v === 'object' && !(v instanceof UnknownValue))
    budget.collection(Object.keys(v).length, `The result of ${name}()`, range);
  return v;
}
