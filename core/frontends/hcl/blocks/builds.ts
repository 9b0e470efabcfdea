/**
 * `build` blocks → one BuildDef per source, by Packer's build grammar: `sources = <any expression evaluating to a
 * list of source references>`, build-level `source "type.name" {}` blocks (rename with `name`, extra attributes),
 * provisioners in file order, post-processor chains; and `dynamic` blocks generating any of those labelled blocks
 * (`dynamic "source"`, `dynamic "provisioner"`, `dynamic "post-processor"` ...), expanded in place (dynamic.ts).
 */

import { childContext, type EvalContext, type LazyRoot } from '../../../hcl/eval/context.ts';
import { convertValue } from '../../../hcl/eval/types.ts';
import type { Value } from '../../../hcl/eval/values.ts';
import { globMatch } from '../../../hcl/glob.ts';
import type { Block, Body, Expr } from '../../../hcl/syntax/ast.ts';
import { type Diagnostic, error, type SourceRange } from '../../../template/diagnostics.ts';
import {
  type BuildDef,
  type KeyRanges,
  type PostProcessorDef,
  type ProvisionerDef,
  UnknownValue,
} from '../../../template/model.ts';
import { type ComponentBodyKind, checkComponentBody } from './component-shape.ts';
import {
  appliesTo,
  evalPostProcessor,
  evalProvisioner,
  POST_PROCESSOR_SPECIAL,
  PROVISIONER_SPECIAL,
} from './components.ts';
import { evalAttr, evalBody } from './config-body.ts';
import { expandDynamic, withVars } from './dynamic.ts';
import { unsuitableValue } from './eval-attr.ts';
import { checkAttributes } from './schema-check.ts';

export interface SourceDecl {
  readonly type: string;
  readonly name: string;
  readonly block: Block;
}

const BUILD_ATTRS = new Set(['name', 'description', 'sources']);
/** The blocks a build body holds, with the number of labels each takes (what a `dynamic` block must give). */
const BUILD_BLOCK_LABELS: Readonly<Record<string, number>> = {
  source: 1,
  provisioner: 1,
  'error-cleanup-provisioner': 1,
  'post-processor': 1,
  'post-processors': 0,
  hcp_packer_registry: 0,
};
const BUILD_BLOCKS = new Set([...Object.keys(BUILD_BLOCK_LABELS), 'dynamic']);
const POST_PROCESSORS_LABELS: Readonly<Record<string, number>> = { 'post-processor': 1 };

/**
 * A source reference as Packer reads it (`sourceRefFromString`): `source.amazon-ebs.x` or `amazon-ebs.x` →
 * `amazon-ebs.x`; with more than two parts the first is dropped and the next two kept. Undefined with fewer than two.
 */
export function sourceKey(ref: string): string | undefined {
  const parts = ref.split('.');
  if (parts.length < 2) return undefined;
  const [type, name] = parts.length > 2 ? parts.slice(1) : parts;
  return `${type}.${name}`;
}

const NAME_ONLY: ReadonlySet<string> = new Set(['name']);

const IDENTIFIER = /^[\p{L}_][\p{L}\p{N}_-]*$/u;

/** A build body's block after `dynamic` expansion, with the iteration variables its expressions see. */
interface BuildItem {
  readonly block: Block;
  readonly vars: Readonly<Record<string, Value>>;
}

/** Static blocks as written and `dynamic` ones expanded in place, for a body whose blocks take `labels`. */
function expandItems(
  blocks: readonly Block[],
  labels: Readonly<Record<string, number>>,
  ctx: EvalContext,
  outer: Readonly<Record<string, Value>>,
  diagnostics: Diagnostic[],
): BuildItem[] {
  const items: BuildItem[] = [];
  for (const b of blocks) {
    if (b.type !== 'dynamic') {
      items.push({ block: b, vars: outer });
      continue;
    }
    const type = b.labels[0] ?? '';
    const count = Object.hasOwn(labels, type) ? labels[type] : undefined;
    if (count === undefined) {
      diagnostics.push(
        error('Unsupported block type', `Blocks of type "${type}" are not expected here.`, b.labelRanges[0] ?? b.range),
      );
      continue;
    }
    const r = expandDynamic(b, count, withVars(ctx, outer), diagnostics);
    if (r.ok) {
      for (const item of r.items) items.push({ block: item.block, vars: { ...outer, ...item.vars } });
    } else if (r.unknown) {
      diagnostics.push(
        error(
          'Invalid dynamic for_each value',
          `The for_each value of this dynamic "${type}" block is known only while building, so the blocks it makes cannot be known before: Kiln plans every build before it starts. Compute it from variables, locals or data sources.`,
          b.typeRange,
        ),
      );
    }
  }
  return items;
}

/** `build.*` is only known while building. */
const BUILD_ROOT: LazyRoot = {
  lazy: true,
  get: (name) => new UnknownValue(`build.${name}`),
  whole: () => new UnknownValue('build'),
};

interface SourceUse {
  readonly key: string;
  readonly decl: SourceDecl;
  readonly rename?: string;
  readonly overrideBlock?: Block;
  /** Iteration variables of the `dynamic "source"` block that made `overrideBlock`. */
  readonly vars?: Readonly<Record<string, Value>>;
  readonly range: SourceRange;
}

const INVALID_REFERENCE =
  'A source type is made of three parts that are split by a dot `.`; each part must start with a letter and may contain only letters, digits, underscores, and dashes. A valid source reference looks like: `source.type.name`';

/** A bare reference written in the list (`source.amazon-ebs.x`), which Kiln accepts as its dotted name. */
function bareReference(e: Expr): string | undefined {
  if (e.kind === 'traverse' && e.target.kind === 'variable' && e.steps.every((s) => s.kind === 'attr')) {
    return [e.target.name, ...e.steps.map((s) => (s.kind === 'attr' ? s.name : ''))].join('.');
  }
  return undefined;
}

const sourcesProblem = unsuitableValue;

/**
 * `sources`: any expression that evaluates to a list of strings (variables, locals, functions, conditionals, for
 * expressions), decoded as Packer's `[]string` with cty's conversions; a literal list also takes bare references.
 */
function sourceRefs(expr: Expr, ctx: EvalContext, diagnostics: Diagnostic[]): { ref: string; range: SourceRange }[] {
  if (expr.kind === 'tuple') {
    const out: { ref: string; range: SourceRange }[] = [];
    expr.items.forEach((item, i) => {
      const bare = bareReference(item);
      const v = bare ?? evalAttr(item, ctx, diagnostics);
      if (v === undefined) return;
      const r = convertValue(v, { kind: 'string' });
      if (!r.ok || v instanceof UnknownValue) {
        diagnostics.push(r.ok ? unknownSources(item.range) : sourcesProblem(`element ${i}: ${r.message}`, item.range));
      } else if (typeof r.value !== 'string') {
        diagnostics.push(error('Invalid source reference', INVALID_REFERENCE, item.range));
      } else out.push({ ref: r.value, range: item.range });
    });
    return out;
  }
  const v = evalAttr(expr, ctx, diagnostics);
  if (v === undefined) return [];
  if (v instanceof UnknownValue) {
    diagnostics.push(unknownSources(expr.range));
    return [];
  }
  const r = convertValue(v, { kind: 'list', elem: { kind: 'string' } });
  if (!r.ok) {
    diagnostics.push(sourcesProblem(r.message, expr.range));
    return [];
  }
  if (!Array.isArray(r.value)) return [];
  return r.value.flatMap((x) => {
    if (typeof x === 'string') return [{ ref: x, range: expr.range }];
    diagnostics.push(
      x instanceof UnknownValue
        ? unknownSources(expr.range)
        : error('Invalid source reference', INVALID_REFERENCE, expr.range),
    );
    return [];
  });
}

function unknownSources(range: SourceRange): Diagnostic {
  return error(
    'Invalid sources',
    'The sources of a build must be known before it starts (Kiln plans every build first): compute them from variables, locals or data sources.',
    range,
  );
}

export interface BuildOptions {
  readonly only?: readonly string[];
  readonly except?: readonly string[];
}

export function evalBuilds(
  blocks: readonly Block[],
  sources: ReadonlyMap<string, SourceDecl>,
  ctx: EvalContext,
  opts: BuildOptions,
  diagnostics: Diagnostic[],
): BuildDef[] {
  const builds: BuildDef[] = [];
  const known = `Known: [${[...sources.keys()].join(' ')}]`;
  // Each body is shape-checked once (component-shape.ts), however many builds evaluate it.
  const checkedBodies = new Map<Body, Body>();
  const shaped = (kind: ComponentBodyKind, type: string, body: Body, keep?: ReadonlySet<string>): Body => {
    let out = checkedBodies.get(body);
    if (!out) {
      out = checkComponentBody(kind, type, body, diagnostics, keep);
      checkedBodies.set(body, out);
    }
    return out;
  };
  const provisionerBody = (b: Block) => shaped('provisioner', b.labels[0] ?? '', b.body, PROVISIONER_SPECIAL);
  const postProcessorBody = (b: Block) => shaped('post-processor', b.labels[0] ?? '', b.body, POST_PROCESSOR_SPECIAL);
  for (const block of blocks) {
    checkAttributes(block.body, BUILD_ATTRS, BUILD_BLOCKS, diagnostics);
    const attr = (n: string) => block.body.attributes.find((a) => a.name === n);
    const nameAttr = attr('name');
    const buildName = nameAttr ? evalAttr(nameAttr.expr, ctx, diagnostics) : undefined;
    const uses: SourceUse[] = [];
    const items = expandItems(block.body.blocks, BUILD_BLOCK_LABELS, ctx, {}, diagnostics);
    const useRef = (ref: string, range: SourceRange) => {
      const key = sourceKey(ref);
      const [type, name] = key?.split('.') ?? [];
      if (key === undefined || !IDENTIFIER.test(type ?? '') || !IDENTIFIER.test(name ?? '')) {
        diagnostics.push(error('Invalid source reference', INVALID_REFERENCE, range));
        return;
      }
      const decl = sources.get(key);
      if (!decl) diagnostics.push(error(`Unknown source ${key}`, known, range));
      else uses.push({ key, decl, range });
    };
    const sourcesAttr = attr('sources');
    let namedRefs = 0;
    if (sourcesAttr) {
      const before = diagnostics.length;
      const refs = sourceRefs(sourcesAttr.expr, ctx, diagnostics);
      // A `sources` that did not decode was reported; Packer stops there, before counting.
      namedRefs = diagnostics.length > before ? 1 : refs.length;
      for (const ref of refs) useRef(ref.ref, ref.range);
    }
    for (const { block: sb, vars } of items.filter((i) => i.block.type === 'source')) {
      const label = sb.labels[0];
      if (label === undefined) {
        diagnostics.push(
          error(
            'Missing source reference',
            'A build-level source block needs one label: the source to use, like "amazon-ebs.example".',
            sb.range,
          ),
        );
        continue;
      }
      const key = sourceKey(label);
      const decl = key === undefined ? undefined : sources.get(key);
      if (!decl || key === undefined) {
        diagnostics.push(error(`Unknown source ${key ?? label}`, known, sb.labelRanges[0] ?? sb.range));
        continue;
      }
      const renameAttr = sb.body.attributes.find((a) => a.name === 'name');
      const rename = renameAttr ? evalAttr(renameAttr.expr, withVars(ctx, vars), diagnostics) : undefined;
      uses.push({
        key,
        decl,
        ...(typeof rename === 'string' ? { rename } : {}),
        overrideBlock: sb,
        vars,
        range: sb.range,
      });
    }
    // Packer counts what the build names, before looking the names up: `sources = []` and a dynamic "source"
    // over an empty collection name nothing.
    const named = (sourcesAttr ? namedRefs : 0) + items.filter((i) => i.block.type === 'source').length;
    if (named === 0) {
      diagnostics.push(
        error(
          'missing source reference',
          'a build block must reference at least one source to be built',
          block.labelRanges[0] ?? block.typeRange,
        ),
      );
    }
    const cleanups = items.map((i) => i.block).filter((b) => b.type === 'error-cleanup-provisioner');
    if (cleanups.length > 1) {
      diagnostics.push(
        error(
          'Only one error-cleanup-provisioner block is allowed per build',
          'Remove the extra error-cleanup-provisioner blocks.',
          (cleanups[1] as Block).typeRange,
        ),
      );
    }
    for (const use of uses) {
      const sourceName = use.rename ?? use.decl.name;
      const key = `${use.decl.type}.${sourceName}`;
      const fullName = typeof buildName === 'string' && buildName !== '' ? `${buildName}.${key}` : key;
      if (opts.only && opts.only.length > 0 && !opts.only.some((p) => globMatch(p, fullName))) continue;
      if (opts.except?.some((p) => globMatch(p, fullName))) continue;
      const scope = childContext(ctx, {
        source: { name: sourceName, type: use.decl.type },
      } as Record<string, Value>);
      const scoped: EvalContext = { ...scope, roots: new Map([...scope.roots, ['build', BUILD_ROOT]]) };
      const base = evalBody(shaped('builder', use.decl.type, use.decl.block.body), scoped, diagnostics);
      const config = { ...base.config };
      const keyRanges: KeyRanges = { ...base.keyRanges };
      if (use.overrideBlock) {
        const body = shaped('builder', use.decl.type, use.overrideBlock.body, NAME_ONLY);
        const extra = evalBody(body, withVars(scoped, use.vars ?? {}), diagnostics, NAME_ONLY);
        Object.assign(config, extra.config);
        Object.assign(keyRanges, extra.keyRanges);
      }
      const provisioners: ProvisionerDef[] = [];
      let errorCleanupProvisioner: ProvisionerDef | undefined;
      const postProcessors: PostProcessorDef[][] = [];
      const keepPp = (pp: PostProcessorDef) => !opts.except?.some((p) => globMatch(p, pp.name ?? pp.type));
      for (const { block: b, vars } of items) {
        const at = withVars(scoped, vars);
        if (b.type === 'provisioner' && appliesTo(b, key, at, diagnostics)) {
          provisioners.push(evalProvisioner(b, key, at, diagnostics, provisionerBody(b)));
        } else if (b.type === 'error-cleanup-provisioner' && b === cleanups[0] && appliesTo(b, key, at, diagnostics)) {
          errorCleanupProvisioner = evalProvisioner(b, key, at, diagnostics, provisionerBody(b));
        } else if (b.type === 'post-processor' && appliesTo(b, key, at, diagnostics)) {
          const pp = evalPostProcessor(b, at, diagnostics, postProcessorBody(b));
          if (keepPp(pp)) postProcessors.push([pp]);
        } else if (b.type === 'post-processors') {
          checkAttributes(b.body, new Set(), new Set(['post-processor', 'dynamic']), diagnostics);
          const chain = expandItems(b.body.blocks, POST_PROCESSORS_LABELS, ctx, vars, diagnostics)
            .map((p) => ({ p: p.block, at: withVars(scoped, p.vars) }))
            .filter(({ p, at: pAt }) => p.type === 'post-processor' && appliesTo(p, key, pAt, diagnostics))
            .map(({ p, at: pAt }) => evalPostProcessor(p, pAt, diagnostics, postProcessorBody(p)))
            .filter(keepPp);
          if (chain.length > 0) postProcessors.push(chain);
        }
      }
      builds.push({
        name: fullName,
        builderType: use.decl.type,
        sourceName,
        ...(typeof buildName === 'string' && buildName !== '' ? { buildBlockName: buildName } : {}),
        config,
        keyRanges,
        range: use.decl.block.range,
        buildRange: block.range,
        provisioners,
        ...(errorCleanupProvisioner ? { errorCleanupProvisioner } : {}),
        postProcessors,
      });
    }
  }
  return builds;
}
