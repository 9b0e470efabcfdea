/**
 * Provisioner and post-processor blocks of a build, evaluated for one source: only/except filtering, `override`
 * merging, and the special attributes Packer reads itself (pause_before, max_retries, timeout, name, keep_input_artifact).
 */

import type { EvalContext } from '../../../hcl/eval/context.ts';
import { convertValue, type TypeSpec } from '../../../hcl/eval/types.ts';
import { isObject, type Value } from '../../../hcl/eval/values.ts';
import type { Block, Body } from '../../../hcl/syntax/ast.ts';
import { type Diagnostic, error } from '../../../template/diagnostics.ts';
import type { PostProcessorDef, ProvisionerDef } from '../../../template/model.ts';
import { parseGoDuration } from '../../../values/duration.ts';
import { evalAttr, evalBody } from './config-body.ts';
import { unsuitableValue } from './eval-attr.ts';

export const PROVISIONER_SPECIAL: ReadonlySet<string> = new Set([
  'only',
  'except',
  'override',
  'pause_before',
  'max_retries',
  'timeout',
  'name',
]);
export const POST_PROCESSOR_SPECIAL: ReadonlySet<string> = new Set(['only', 'except', 'name', 'keep_input_artifact']);

function attrValue(block: Block, name: string, ctx: EvalContext, diagnostics: Diagnostic[]): Value | undefined {
  const a = block.body.attributes.find((x) => x.name === name);
  return a ? evalAttr(a.expr, ctx, diagnostics) : undefined;
}

const STRING: TypeSpec = { kind: 'string' };

/**
 * An attribute Packer decodes itself into a typed Go field (`Name string`, `Only []string`, `MaxRetries int`,
 * `KeepInputArtifact *bool`), converted by cty's rules like component options: undefined when absent, null, or
 * refused (then reported in gohcl's words).
 */
function typedAttr(
  block: Block,
  name: string,
  type: TypeSpec,
  ctx: EvalContext,
  diagnostics: Diagnostic[],
): Value | undefined {
  const a = block.body.attributes.find((x) => x.name === name);
  const v = a ? evalAttr(a.expr, ctx, diagnostics) : undefined;
  if (v === undefined || v === null) return undefined;
  const r = convertValue(v, type);
  if (r.ok) return r.value;
  diagnostics.push(unsuitableValue(r.message, a?.expr.range));
  return undefined;
}

function stringList(block: Block, name: string, ctx: EvalContext, diagnostics: Diagnostic[]): string[] | undefined {
  const v = typedAttr(block, name, { kind: 'list', elem: STRING }, ctx, diagnostics);
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
}

/** Whether a provisioner or post-processor applies to the build of source `sourceKey` (`type.name`). */
export function appliesTo(block: Block, sourceKey: string, ctx: EvalContext, diagnostics: Diagnostic[]): boolean {
  const only = stringList(block, 'only', ctx, diagnostics);
  const except = stringList(block, 'except', ctx, diagnostics);
  if (only && except) {
    diagnostics.push(
      error(
        "only one of 'only' or 'except' may be specified",
        `Both are set in this ${block.type} block.`,
        block.typeRange,
      ),
    );
  }
  if (only) return only.includes(sourceKey);
  if (except) return !except.includes(sourceKey);
  return true;
}

function durationAttr(block: Block, name: string, ctx: EvalContext, diagnostics: Diagnostic[]): string | undefined {
  const s = typedAttr(block, name, STRING, ctx, diagnostics);
  if (typeof s !== 'string') return undefined;
  if (parseGoDuration(s) === undefined) {
    const detail = /^[-+]?[\d.]+$/.test(s) ? `time: missing unit in duration "${s}"` : `time: invalid duration "${s}"`;
    diagnostics.push(error(`Failed to parse ${name} duration`, detail, block.range));
  }
  return s;
}

/** `body` is the block's body as HCL's decoder accepts it (component-shape.ts), when checked by the caller. */
export function evalProvisioner(
  block: Block,
  sourceKey: string,
  ctx: EvalContext,
  diagnostics: Diagnostic[],
  body: Body = block.body,
): ProvisionerDef {
  const type = block.labels[0] ?? '';
  const { config, keyRanges } = evalBody(body, ctx, diagnostics, PROVISIONER_SPECIAL);
  const override = attrValue(block, 'override', ctx, diagnostics);
  if (isObject(override)) {
    const forSource = override[sourceKey] ?? override[sourceKey.split('.').slice(1).join('.')];
    if (isObject(forSource)) Object.assign(config, forSource);
  }
  const name = typedAttr(block, 'name', STRING, ctx, diagnostics);
  const retries = typedAttr(block, 'max_retries', { kind: 'number' }, ctx, diagnostics);
  const pauseBefore = durationAttr(block, 'pause_before', ctx, diagnostics);
  const timeout = durationAttr(block, 'timeout', ctx, diagnostics);
  if (typeof retries === 'number' && !Number.isInteger(retries)) {
    diagnostics.push(
      error(
        'Incorrect attribute value type',
        'Inappropriate value for attribute "max_retries": a whole number is required.',
        block.range,
      ),
    );
  }
  return {
    type,
    ...(typeof name === 'string' ? { name } : {}),
    config,
    keyRanges,
    ...(pauseBefore !== undefined ? { pauseBefore } : {}),
    ...(typeof retries === 'number' && Number.isInteger(retries) ? { maxRetries: retries } : {}),
    ...(timeout !== undefined ? { timeout } : {}),
    range: block.range,
  };
}

export function evalPostProcessor(
  block: Block,
  ctx: EvalContext,
  diagnostics: Diagnostic[],
  body: Body = block.body,
): PostProcessorDef {
  const type = block.labels[0] ?? '';
  const { config, keyRanges } = evalBody(body, ctx, diagnostics, POST_PROCESSOR_SPECIAL);
  const name = typedAttr(block, 'name', STRING, ctx, diagnostics);
  const keep = typedAttr(block, 'keep_input_artifact', { kind: 'bool' }, ctx, diagnostics);
  return {
    type,
    ...(typeof name === 'string' ? { name } : {}),
    config,
    keyRanges,
    ...(typeof keep === 'boolean' ? { keepInputArtifact: keep } : {}),
    range: block.range,
  };
}
