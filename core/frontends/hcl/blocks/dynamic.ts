/**
 * `dynamic "T" { for_each, iterator, labels, content {} }` expanded as HCL's dynblock extension does: one block
 * of type T per element of `for_each` (lists in order, maps and objects by key), in place among the static
 * blocks, with the iterator (`T` unless renamed) bound to `{ key, value }` for the labels and everything inside
 * `content`. Component bodies (no labels) and the `build` block (labelled `source`, `provisioner`, ...) share it.
 */

import { childContext, type EvalContext } from '../../../hcl/eval/context.ts';
import { convertValue } from '../../../hcl/eval/types.ts';
import { isObject, sortedEntries, typeName, type Value } from '../../../hcl/eval/values.ts';
import type { Block, Body } from '../../../hcl/syntax/ast.ts';
import { type Diagnostic, error, type SourceRange } from '../../../template/diagnostics.ts';
import { UnknownValue } from '../../../template/model.ts';
import { evalAttr } from './eval-attr.ts';

/** One generated block: its labels, the content body, and the iteration variables its expressions see. */
export interface DynamicItem {
  readonly type: string;
  readonly labels: readonly string[];
  readonly labelRanges: readonly SourceRange[];
  readonly body: Body;
  /** The iterator binding, `{ [iterator]: { key, value } }`, layered over whatever context evaluates the body. */
  readonly vars: Readonly<Record<string, Value>>;
  readonly block: Block;
}

export type DynamicResult =
  | { readonly ok: true; readonly items: readonly DynamicItem[] }
  /** `for_each` is known only at run time: how many blocks there are is not known offline. */
  | { readonly ok: false; readonly unknown: boolean };

const ALLOWED = new Set(['for_each', 'iterator', 'labels']);

/** `ctx` with each binding layered on (outer iterations first), as dynblock's nested iteration contexts. */
export function withVars(ctx: EvalContext, vars: Readonly<Record<string, Value>>): EvalContext {
  return Object.keys(vars).length === 0 ? ctx : childContext(ctx, vars as Record<string, Value>);
}

/**
 * Expands one `dynamic` block whose generated blocks need `labelCount` labels; `ctx` is the context `for_each`
 * and the labels are evaluated in (the file's variables, locals and data sources; outer iterators included).
 */
export function expandDynamic(
  block: Block,
  labelCount: number,
  ctx: EvalContext,
  diagnostics: Diagnostic[],
): DynamicResult {
  const type = block.labels[0] ?? '';
  const fail = (summary: string, detail: string, range: SourceRange): DynamicResult => {
    diagnostics.push(error(summary, detail, range));
    return { ok: false, unknown: false };
  };
  for (const a of block.body.attributes) {
    if (ALLOWED.has(a.name) && (a.name !== 'labels' || labelCount > 0)) continue;
    return fail('Unsupported argument', `An argument named "${a.name}" is not expected here.`, a.nameRange);
  }
  const attr = (n: string) => block.body.attributes.find((a) => a.name === n);
  const forEach = attr('for_each');
  if (!forEach) {
    return fail(
      'Missing required argument',
      'The argument "for_each" is required, but no definition was found.',
      block.range,
    );
  }
  const labelsAttr = attr('labels');
  if (labelCount > 0 && !labelsAttr) {
    return fail(
      'Missing required argument',
      'The argument "labels" is required, but no definition was found.',
      block.range,
    );
  }
  const iteratorAttr = attr('iterator');
  let iterName = type;
  if (iteratorAttr) {
    if (iteratorAttr.expr.kind !== 'variable') {
      return fail(
        'Invalid dynamic iterator name',
        'Dynamic iterator must be a single variable name.',
        iteratorAttr.expr.range,
      );
    }
    iterName = iteratorAttr.expr.name;
  }
  const labelExprs = labelsAttr ? (labelsAttr.expr.kind === 'tuple' ? labelsAttr.expr.items : undefined) : [];
  if (labelsAttr && labelExprs === undefined) {
    return fail('Invalid expression', 'A static list expression is required.', labelsAttr.expr.range);
  }
  const labelList = labelExprs ?? [];
  if (labelsAttr && labelList.length > labelCount) {
    return fail(
      'Extraneous dynamic block label',
      `Blocks of type "${type}" require ${labelCount} label(s).`,
      labelList[labelCount]?.range ?? labelsAttr.expr.range,
    );
  }
  if (labelsAttr && labelList.length < labelCount) {
    return fail(
      'Insufficient dynamic block labels',
      `Blocks of type "${type}" require ${labelCount} label(s).`,
      labelsAttr.expr.range,
    );
  }
  const contents = block.body.blocks.filter((b) => b.type === 'content');
  for (const b of block.body.blocks) {
    if (b.type !== 'content') {
      return fail('Unsupported block type', `Blocks of type "${b.type}" are not expected here.`, b.typeRange);
    }
  }
  const content = contents[0];
  if (!content) {
    return fail(
      'Missing dynamic content block',
      'A dynamic block must have a nested block of type "content" to describe the body of each generated block.',
      block.range,
    );
  }
  if (contents.length > 1) {
    return fail(
      'Extraneous dynamic content block',
      'Only one nested content block is allowed for each dynamic block.',
      (contents[1] as Block).typeRange,
    );
  }
  const coll = evalAttr(forEach.expr, ctx, diagnostics);
  if (coll === undefined) return { ok: false, unknown: false };
  if (coll instanceof UnknownValue) return { ok: false, unknown: true };
  if (coll === null) {
    return fail('Invalid dynamic for_each value', 'Cannot use a null value in for_each.', forEach.expr.range);
  }
  if (!Array.isArray(coll) && !isObject(coll)) {
    return fail(
      'Invalid dynamic for_each value',
      `Cannot use a ${typeName(coll)} value in for_each. An iterable collection is required.`,
      forEach.expr.range,
    );
  }
  const entries: [Value, Value][] = Array.isArray(coll) ? coll.map((v, i) => [i, v]) : sortedEntries(coll);
  const items: DynamicItem[] = [];
  for (const [key, value] of entries) {
    const vars = { [iterName]: { key, value } };
    const labels: string[] = [];
    for (const e of labelList) {
      const v = evalAttr(e, withVars(ctx, vars), diagnostics);
      if (v === undefined) return { ok: false, unknown: false };
      if (v instanceof UnknownValue) return { ok: false, unknown: true };
      if (v === null)
        return fail('Invalid dynamic block label', 'Cannot use a null value as a dynamic block label.', e.range);
      const s = convertValue(v, { kind: 'string' });
      if (!s.ok || typeof s.value !== 'string') {
        return fail(
          'Invalid dynamic block label',
          `Cannot use this value as a dynamic block label: ${s.ok ? 'string required' : s.message}.`,
          e.range,
        );
      }
      labels.push(s.value);
    }
    const labelRanges = labelList.map((e) => e.range);
    items.push({
      type,
      labels,
      labelRanges,
      body: content.body,
      vars,
      block: {
        type,
        labels,
        labelRanges,
        body: content.body,
        typeRange: block.labelRanges[0] ?? block.typeRange,
        range: block.range,
      },
    });
  }
  return { ok: true, items };
}
