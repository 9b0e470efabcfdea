/**
 * Evaluates a component body (source, provisioner, post-processor, data) into plain configuration: attributes
 * become keys, nested blocks become arrays of objects (or one object for the known single blocks below), and
 * `dynamic "x" { for_each, iterator, content {} }` expands into repeated `x` blocks.
 */

import type { EvalContext } from '../../../hcl/eval/context.ts';
import type { Block, Body } from '../../../hcl/syntax/ast.ts';
import type { Diagnostic } from '../../../template/diagnostics.ts';
import type { Config, KeyRanges } from '../../../template/model.ts';
import { expandDynamic, withVars } from './dynamic.ts';
import { evalAttr } from './eval-attr.ts';

export { evalAttr };

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
      // Nested blocks of component schemas have no labels. An unknown for_each makes no block offline.
      const r = expandDynamic(block, 0, ctx, diagnostics);
      if (!r.ok) continue;
      for (const x of r.items)
        nested.push({ type: x.type, body: x.body, ctx: withVars(ctx, x.vars), range: block.range });
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
