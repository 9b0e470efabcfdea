/**
 * Evaluates AST expressions to values. Unknown values (offline data sources, `build.*`) propagate through
 * operators, templates and function calls instead of failing. Errors are thrown as HclEvalError and turned into
 * diagnostics by the caller; `try` and `can` catch them.
 */
import type { SourceRange } from '../../template/diagnostics.ts';
import { currentBudget } from '../../template/limits.ts';
import { UnknownValue } from '../../template/model.ts';
import type { Expr, Step, TemplatePart } from '../syntax/ast.ts';
import { evalCall } from './calls.ts';
import { allRootNames, childContext, type EvalContext, isLazyRoot, lookupRoot } from './context.ts';
import { evalBinary } from './operators.ts';
import { didYouMean } from './suggest.ts';
import { conditionalResult } from './unify.ts';
import {
  containsUnknown,
  fail,
  firstUnknown,
  HclEvalError,
  isObject,
  type ObjectValue,
  sortedEntries,
  toBool,
  toNum,
  toStr,
  typeName,
  type Value,
} from './values.ts';

export function evaluate(expr: Expr, ctx: EvalContext): Value {
  // Every expression evaluated is one step of the load's budget (limits.ts), so no template can loop forever.
  currentBudget().step(1, expr.range);
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'invalid':
      return fail('Invalid expression', 'Expected the start of an expression.', expr.range);
    case 'paren':
      return evaluate(expr.inner, ctx);
    case 'template':
      return evalTemplate(expr.parts, ctx);
    case 'variable':
      return rootValue(expr.name, ctx, expr.range);
    case 'traverse':
      return evalTraverse(expr.target, expr.steps, ctx);
    case 'splat': {
      const source = evaluate(expr.source, ctx);
      if (source instanceof UnknownValue) return source;
      const items = source === null ? [] : Array.isArray(source) ? source : [source];
      return items.map((item) => applySteps(item, expr.each, ctx, expr.range));
    }
    case 'tuple':
      currentBudget().collection(expr.items.length, 'This tuple', expr.range);
      return expr.items.map((e) => evaluate(e, ctx));
    case 'object': {
      const out: ObjectValue = {};
      for (const item of expr.items) {
        const key = item.bareKey ?? evaluate(item.key, ctx);
        if (key instanceof UnknownValue) return key;
        out[toStr(key, item.key.range, 'object key')] = evaluate(item.value, ctx);
      }
      return out;
    }
    case 'call':
      return evalCall(expr, ctx);
    case 'unary': {
      const v = evaluate(expr.operand, ctx);
      if (v instanceof UnknownValue) return v;
      return expr.op === '!' ? !toBool(v, expr.operand.range) : -toNum(v, expr.operand.range);
    }
    case 'binary':
      return evalBinary(expr.op, evaluate(expr.left, ctx), evaluate(expr.right, ctx), expr.range);
    case 'conditional':
      return evalConditional(expr, ctx);
    case 'for':
      return evalFor(expr, ctx);
  }
}

/** The other result of a conditional, only for its type: a result that fails to evaluate has none (DynamicVal). */
function tryEvaluate(expr: Expr, ctx: EvalContext): Value | undefined {
  try {
    return evaluate(expr, ctx);
  } catch (e) {
    if (e instanceof HclEvalError) return undefined;
    throw e;
  }
}

/**
 * `c ? a : b` as HCL evaluates it: both results are evaluated (the unchosen one's errors are dropped), their types
 * unified (unify.ts), the chosen result converted to the unified type; the condition must be a bool.
 */
function evalConditional(expr: Extract<Expr, { kind: 'conditional' }>, ctx: EvalContext): Value {
  const c = evaluate(expr.cond, ctx);
  if (c === null)
    fail('Null condition', 'The condition value is null. Conditions must either be true or false.', expr.cond.range);
  const known = !(c instanceof UnknownValue);
  const which = known ? toCondition(c, expr.cond.range) : true;
  // With an unknown condition neither result is chosen: HCL reports neither's errors, only their types.
  const chosen = known ? evaluate(which ? expr.whenTrue : expr.whenFalse, ctx) : tryEvaluate(expr.whenTrue, ctx);
  const other = tryEvaluate(which ? expr.whenFalse : expr.whenTrue, ctx);
  if (chosen === undefined) return c;
  const r = conditionalResult(chosen, other, which, (n) => currentBudget().step(n, expr.range));
  if (!r.ok) {
    const range = r.wrongValue
      ? (which ? expr.whenTrue : expr.whenFalse).range
      : { file: expr.whenTrue.range.file, start: expr.whenTrue.range.start, end: expr.whenFalse.range.end };
    fail('Inconsistent conditional result types', r.detail, range);
  }
  return known ? r.value : c;
}

function toCondition(c: Value, range: SourceRange): boolean {
  if (typeof c === 'boolean') return c;
  if (c === 'true' || c === '1') return true;
  if (c === 'false' || c === '0') return false;
  return fail('Incorrect condition type', 'The condition expression must be of type bool.', range);
}

function rootValue(name: string, ctx: EvalContext, range: SourceRange): Value {
  const root = lookupRoot(ctx, name);
  if (root === undefined) {
    return fail(
      'Unknown variable',
      `There is no variable named "${name}".${didYouMean(name, allRootNames(ctx))}`,
      range,
    );
  }
  return isLazyRoot(root) ? root.whole(range) : root;
}

function evalTraverse(target: Expr, steps: readonly Step[], ctx: EvalContext): Value {
  // `var.x` / `local.y`: lazy roots resolve (and check) the first attribute themselves.
  if (target.kind === 'variable' && steps[0]?.kind === 'attr') {
    const root = lookupRoot(ctx, target.name);
    if (isLazyRoot(root)) {
      const first = steps[0];
      const range = { file: target.range.file, start: target.range.start, end: first.range.end };
      return applySteps(root.get(first.name, range), steps.slice(1), ctx, range);
    }
  }
  return applySteps(evaluate(target, ctx), steps, ctx, target.range);
}

export function applySteps(value: Value, steps: readonly Step[], ctx: EvalContext, baseRange: SourceRange): Value {
  let v = value;
  for (const step of steps) {
    if (v instanceof UnknownValue) return v;
    const range = { file: baseRange.file, start: baseRange.start, end: step.range.end };
    if (step.kind === 'attr') {
      if (isObject(v)) {
        if (!(step.name in v)) {
          fail(
            'Unsupported attribute',
            `This object does not have an attribute named "${step.name}".${didYouMean(step.name, Object.keys(v))}`,
            range,
          );
        }
        v = v[step.name] as Value;
      } else if (Array.isArray(v) && /^\d+$/.test(step.name)) {
        v = indexValue(v, Number(step.name), range);
      } else if (v === null) {
        fail(
          'Attempt to get attribute from null value',
          'This value is null, so it does not have any attributes.',
          range,
        );
      } else {
        fail('Unsupported attribute', `Can't access attributes on a ${typeName(v)} value.`, range);
      }
    } else {
      const key = evaluate(step.key, ctx);
      if (key instanceof UnknownValue) return key;
      v = indexValue(v, key, range);
    }
  }
  return v;
}

function indexValue(v: Value, key: Value, range: SourceRange): Value {
  if (Array.isArray(v)) {
    const n = toNum(key, range);
    if (!Number.isInteger(n) || n < 0 || n >= v.length) {
      fail('Invalid index', `The given key does not identify an element in this collection value.`, range);
    }
    return v[n] as Value;
  }
  if (isObject(v)) {
    const k = toStr(key, range, 'key');
    if (!(k in v))
      fail('Invalid index', `The given key "${k}" does not identify an element in this collection value.`, range);
    return v[k] as Value;
  }
  if (v === null)
    return fail('Attempt to index null value', 'This value is null, so it does not have any indices.', range);
  return fail('Invalid index', `This value (${typeName(v)}) does not have any indices.`, range);
}

export function evalTemplate(parts: readonly TemplatePart[], ctx: EvalContext): Value {
  // A template that is exactly one interpolation yields the value itself, unconverted (HCL rule).
  if (parts.length === 1 && parts[0]?.kind === 'interp') return evaluate(parts[0].expr, ctx);
  let out = '';
  let unknown: UnknownValue | undefined;
  const budget = currentBudget();
  const max = budget.limits.maxStringLength;
  const run = (seq: readonly TemplatePart[], scope: EvalContext) => {
    for (const p of seq) {
      if (p.kind === 'text') out += p.text;
      else if (p.kind === 'interp') {
        const v = evaluate(p.expr, scope);
        if (containsUnknown(v)) unknown ??= firstUnknown([v]);
        else out += toStr(v, p.expr.range);
        // Concatenation is cheap (rope strings) until read, so checking after each part stops growth early.
        if (out.length > max) budget.stringLength(out.length, 'This string template', p.expr.range);
      } else if (p.kind === 'if') {
        const c = evaluate(p.cond, scope);
        if (c instanceof UnknownValue) unknown ??= c;
        else run(toBool(c, p.cond.range) ? p.whenTrue : p.whenFalse, scope);
      } else {
        const coll = evaluate(p.collection, scope);
        if (coll instanceof UnknownValue) {
          unknown ??= coll;
          continue;
        }
        const entries = iterate(coll, p.collection.range);
        budget.collection(entries.length, "The collection of this template 'for' directive", p.collection.range);
        for (const [k, v] of entries) {
          if (out.length > max) budget.stringLength(out.length, 'This string template', p.collection.range);
          const vars: Record<string, Value> = { [p.valueVar]: v };
          if (p.keyVar !== undefined) vars[p.keyVar] = k;
          run(p.body, childContext(scope, vars));
        }
      }
    }
  };
  run(parts, ctx);
  budget.stringLength(
    out.length,
    'This string template',
    parts[0]?.kind === 'interp' ? parts[0].expr.range : undefined,
  );
  if (unknown) return new UnknownValue(`template: ${unknown.source}`);
  return out;
}

function iterate(coll: Value, range: SourceRange): [Value, Value][] {
  if (Array.isArray(coll)) return coll.map((v, i) => [i, v]);
  if (isObject(coll)) return sortedEntries(coll);
  return fail(
    'Iteration over non-iterable value',
    `A value of type ${typeName(coll)} cannot be used as the collection in a 'for' expression.`,
    range,
  );
}

function evalFor(expr: Extract<Expr, { kind: 'for' }>, ctx: EvalContext): Value {
  const coll = evaluate(expr.collection, ctx);
  if (coll instanceof UnknownValue) return coll;
  if (coll === null)
    fail(
      'Iteration over null value',
      "A null value cannot be used as the collection in a 'for' expression.",
      expr.collection.range,
    );
  const entries = iterate(coll, expr.collection.range);
  currentBudget().collection(entries.length, "The collection of this 'for' expression", expr.collection.range);
  const tuple: Value[] = [];
  const object: Record<string, Value> = {};
  const groups: Record<string, Value[]> = {};
  for (const [k, v] of entries) {
    const vars: Record<string, Value> = { [expr.valueVar]: v };
    if (expr.keyVar !== undefined) vars[expr.keyVar] = k;
    const scope = childContext(ctx, vars);
    if (expr.cond) {
      const c = evaluate(expr.cond, scope);
      if (c instanceof UnknownValue) return c;
      if (!toBool(c, expr.cond.range)) continue;
    }
    if (!expr.object) {
      tuple.push(evaluate(expr.valueExpr, scope));
      continue;
    }
    const key = evaluate(expr.keyExpr as Expr, scope);
    if (key instanceof UnknownValue) return key;
    const ks = toStr(key, expr.keyExpr?.range, 'object key');
    const value = evaluate(expr.valueExpr, scope);
    if (expr.grouping) {
      groups[ks] ??= [];
      groups[ks].push(value);
    } else {
      if (ks in object) {
        fail(
          'Duplicate object key',
          `Two different items produced the key "${ks}" in this 'for' expression. If duplicates are expected, use the ellipsis (...) after the value expression to enable grouping by key.`,
          expr.range,
        );
      }
      object[ks] = value;
    }
  }
  if (!expr.object) return tuple;
  return expr.grouping ? groups : object;
}
