/**
 * Locals evaluate lazily on first reference, in any order; a reference back into a local being evaluated is a
 * cycle, reported once with the chain (`local.a -> local.b -> local.a`) instead of overflowing the stack.
 */

import type { EvalContext, LazyRoot } from '../../../hcl/eval/context.ts';
import { evaluate } from '../../../hcl/eval/evaluate.ts';
import { didYouMean } from '../../../hcl/eval/suggest.ts';
import { fail, HclEvalError, type Value } from '../../../hcl/eval/values.ts';
import type { Block, Expr } from '../../../hcl/syntax/ast.ts';
import { type Diagnostic, error, type SourceRange } from '../../../template/diagnostics.ts';
import { UnknownValue } from '../../../template/model.ts';
import { checkAttributes } from './schema-check.ts';

export interface LocalDecl {
  readonly name: string;
  readonly expr: Expr;
  readonly sensitive: boolean;
  readonly range: SourceRange;
}

const MAX_CHAIN = 500;

export function declareLocals(blocks: readonly Block[], diagnostics: Diagnostic[]): Map<string, LocalDecl> {
  const decls = new Map<string, LocalDecl>();
  const add = (d: LocalDecl) => {
    if (decls.has(d.name)) {
      diagnostics.push(error('Duplicate local definition', `Local "${d.name}" is defined more than once.`, d.range));
      return;
    }
    decls.set(d.name, d);
  };
  for (const b of blocks) {
    if (b.type === 'locals') {
      checkAttributes(b.body, new Set(b.body.attributes.map((a) => a.name)), new Set(), diagnostics);
      for (const a of b.body.attributes) add({ name: a.name, expr: a.expr, sensitive: false, range: a.nameRange });
    } else if (b.type === 'local') {
      const name = b.labels[0];
      checkAttributes(b.body, new Set(['expression', 'sensitive']), new Set(), diagnostics);
      const expr = b.body.attributes.find((a) => a.name === 'expression');
      if (name === undefined || !expr) {
        diagnostics.push(
          error('Missing required argument', 'A local block needs a name label and an "expression" argument.', b.range),
        );
        continue;
      }
      const sens = b.body.attributes.find((a) => a.name === 'sensitive');
      const sensitive = sens?.expr.kind === 'literal' && sens.expr.value === true;
      add({ name, expr: expr.expr, sensitive, range: b.labelRanges[0] ?? b.range });
    }
  }
  return decls;
}

export class LocalsRoot implements LazyRoot {
  readonly lazy = true as const;
  private readonly values = new Map<string, Value>();
  private readonly stack: string[] = [];
  ctx: EvalContext | undefined;

  constructor(
    private readonly decls: ReadonlyMap<string, LocalDecl>,
    private readonly diagnostics: Diagnostic[],
  ) {}

  get(name: string, range: SourceRange): Value {
    const decl = this.decls.get(name);
    if (!decl) {
      return fail(
        'Unsupported attribute',
        `This object does not have an attribute named "${name}".${didYouMean(name, this.decls.keys())}`,
        range,
      );
    }
    const cached = this.values.get(name);
    if (cached !== undefined) return cached;
    if (this.stack.includes(name)) {
      const chain = [...this.stack.slice(this.stack.indexOf(name)), name].map((n) => `local.${n}`).join(' -> ');
      return fail('Cycle in local variables', `Local values refer to each other in a cycle: ${chain}.`, range);
    }
    if (this.stack.length > MAX_CHAIN)
      return fail(
        'Local values nested too deeply',
        `More than ${MAX_CHAIN} locals reference each other in a chain.`,
        range,
      );
    this.stack.push(name);
    let value: Value;
    try {
      value = evaluate(decl.expr, this.ctx as EvalContext);
    } catch (e) {
      if (!(e instanceof HclEvalError) && !(e instanceof RangeError)) throw e;
      this.diagnostics.push(
        e instanceof HclEvalError ? e.diagnostic : error('Expression too complex', e.message, decl.expr.range),
      );
      // Already reported: later references see an unknown rather than repeating the error.
      value = new UnknownValue(`local.${name}`);
    } finally {
      this.stack.pop();
    }
    this.values.set(name, value);
    return value;
  }

  whole(range: SourceRange): Value {
    return Object.fromEntries([...this.decls.keys()].map((k) => [k, this.get(k, range)]));
  }

  /** Evaluates every local once (reports errors in unreferenced locals too). */
  evaluateAll(): Record<string, Value> {
    const out: Record<string, Value> = {};
    for (const [name, decl] of this.decls) out[name] = this.get(name, decl.range);
    return out;
  }
}
