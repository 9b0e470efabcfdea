/**
 * Evaluates a component body (source, provisioner, post-processor, data) into plain configuration: attributes
 * become keys, nested blocks become arrays of objects (or one object for the known single blocks below), and
 * `dynamic "x" { for_each, iterator, content {} }` expands into repeated `x` blocks.
 */
import type { Diagnostic } from '../../diagnostics.ts';
import { error } from '../../diagnostics.ts';
import type { Config, KeyRanges } from '../../model.ts';
import { UnknownValue } from '../../model.ts';
import { childContext, type EvalContext } from '../eval/context.ts';
import { evaluate } from '../eval/evaluate.ts';
import { HclEvalError, isObject, sortedEntries, type Value } from '../eval/values.ts';
import type { Block, Body } from '../syntax/ast.ts';

/**
 * Nested blocks that Packer's schemas decode as a single struct, not a list. Everything else repeated or not
 * becomes an array of objects, which is what the plugins' list-of-struct fields expect.
 */
export const SINGLE_BLOCKS: ReadonlySet<string> = new Set([
  'source_ami_filter',
  'aws_polling',
  'assume_role',
  'filters',
  'filter',
  'vault_aws_engine',
  'source_image_filter',
  'metadata_options',
  'security_group_filter',
  'subnet_filter',
  'vpc_filter',
  'spot_tags',
  'tags',
  'run_tags',
  'run_volume_tags',
  'snapshot_tags',
  'fleet_tags',
  'changes',
  'platform',
  'ecr_login',
  'shared_image_gallery',
  'shared_image_gallery_destination',
  'sensitive',
]);

export interface EvaluatedBody {
  readonly config: Config;
  readonly keyRanges: KeyRanges;
}

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

function expandDynamic(
  block: Block,
  ctx: EvalContext,
  diagnostics: Diagnostic[],
): { type: string; body: Body; ctx: EvalContext }[] {
  const type = block.labels[0] ?? '';
  const forEach = block.body.attributes.find((a) => a.name === 'for_each');
  const iteratorAttr = block.body.attributes.find((a) => a.name === 'iterator');
  const content = block.body.blocks.find((b) => b.type === 'content');
  if (!forEach) {
    diagnostics.push(
      error(
        'Missing required argument',
        'The argument "for_each" is required, but no definition was found.',
        block.range,
      ),
    );
    return [];
  }
  if (!content) {
    diagnostics.push(error('Missing required block', 'A "content" block is required in a dynamic block.', block.range));
    return [];
  }
  const iterName = iteratorAttr?.expr.kind === 'variable' ? iteratorAttr.expr.name : type;
  const coll = evalAttr(forEach.expr, ctx, diagnostics);
  if (coll === undefined || coll instanceof UnknownValue || coll === null) return [];
  const entries: [Value, Value][] = Array.isArray(coll)
    ? coll.map((v, i) => [i, v])
    : isObject(coll)
      ? sortedEntries(coll)
      : [];
  if (!Array.isArray(coll) && !isObject(coll)) {
    diagnostics.push(
      error('Invalid dynamic for_each value', 'Cannot use a non-collection value in for_each.', forEach.expr.range),
    );
  }
  return entries.map(([key, value]) => ({
    type,
    body: content.body,
    ctx: childContext(ctx, { [iterName]: { key, value } }),
  }));
}

/** Evaluates a body; `skip` names attributes/blocks handled by the caller (only, except, override, ...). */
export function evalBody(
  body: Body,
  ctx: EvalContext,
  diagnostics: Diagnostic[],
  skip: ReadonlySet<string> = new Set(),
  depth = 0,
): EvaluatedBody {
  const config: Config = {};
  const keyRanges: KeyRanges = {};
  for (const attr of body.attributes) {
    if (skip.has(attr.name)) continue;
    const v = evalAttr(attr.expr, ctx, diagnostics);
    keyRanges[attr.name] = attr.range;
    if (v !== undefined) config[attr.name] = v;
  }
  // Blocks in document order, dynamic ones expanded in place.
  const nested: { type: string; body: Body; ctx: EvalContext; range: Block['range'] }[] = [];
  for (const block of body.blocks) {
    if (skip.has(block.type)) continue;
    if (block.type === 'dynamic') {
      for (const x of expandDynamic(block, ctx, diagnostics)) nested.push({ ...x, range: block.range });
    } else nested.push({ type: block.type, body: block.body, ctx, range: block.range });
  }
  if (depth > 50) return { config, keyRanges };
  for (const n of nested) {
    const inner = evalBody(n.body, n.ctx, diagnostics, new Set(), depth + 1).config;
    keyRanges[n.type] ??= n.range;
    if (SINGLE_BLOCKS.has(n.type)) {
      config[n.type] = inner;
    } else {
      const list = Array.isArray(config[n.type]) ? (config[n.type] as unknown[]) : [];
      list.push(inner);
      config[n.type] = list;
    }
  }
  return { config, keyRanges };
}
