/**
 * `build` blocks → one BuildDef per source: `sources = [...]` references and build-level `source "type.name" {}`
 * blocks (rename with `name`, extra attributes), provisioners in file order, post-processor chains.
 */
import { type Diagnostic, error, type SourceRange } from '../../diagnostics.ts';
import {
  type BuildDef,
  type KeyRanges,
  type PostProcessorDef,
  type ProvisionerDef,
  UnknownValue,
} from '../../model.ts';
import { childContext, type EvalContext, type LazyRoot } from '../eval/context.ts';
import type { Value } from '../eval/values.ts';
import { globMatch } from '../glob.ts';
import type { Block, Expr } from '../syntax/ast.ts';
import { appliesTo, evalPostProcessor, evalProvisioner } from './components.ts';
import { evalAttr, evalBody } from './config-body.ts';
import { checkAttributes } from './schema-check.ts';

export interface SourceDecl {
  readonly type: string;
  readonly name: string;
  readonly block: Block;
}

const BUILD_ATTRS = new Set(['name', 'description', 'sources']);
const BUILD_BLOCKS = new Set([
  'source',
  'provisioner',
  'error-cleanup-provisioner',
  'post-processor',
  'post-processors',
  'hcp_packer_registry',
]);

/** `source.amazon-ebs.x`, `sources.amazon-ebs.x` or `amazon-ebs.x` → `amazon-ebs.x` (Packer keeps the last two parts). */
export function sourceKey(ref: string): string {
  const parts = ref.split('.');
  return parts.slice(-2).join('.');
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
  readonly range: SourceRange;
}

function staticSourceRef(e: Expr, ctx: EvalContext, diagnostics: Diagnostic[]): string | undefined {
  // Packer also accepts a bare reference (`source.amazon-ebs.x`); rebuild its dotted name.
  if (e.kind === 'traverse' && e.target.kind === 'variable' && e.steps.every((s) => s.kind === 'attr')) {
    return [e.target.name, ...e.steps.map((s) => (s.kind === 'attr' ? s.name : ''))].join('.');
  }
  const v = evalAttr(e, ctx, diagnostics);
  return typeof v === 'string' ? v : undefined;
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
  for (const block of blocks) {
    checkAttributes(block.body, BUILD_ATTRS, BUILD_BLOCKS, diagnostics);
    const attr = (n: string) => block.body.attributes.find((a) => a.name === n);
    const nameAttr = attr('name');
    const buildName = nameAttr ? evalAttr(nameAttr.expr, ctx, diagnostics) : undefined;
    const uses: SourceUse[] = [];
    const sourcesAttr = attr('sources');
    if (sourcesAttr) {
      const items = sourcesAttr.expr.kind === 'tuple' ? sourcesAttr.expr.items : [];
      if (sourcesAttr.expr.kind !== 'tuple') {
        diagnostics.push(
          error(
            'Invalid sources',
            'The "sources" argument must be a list of source references.',
            sourcesAttr.expr.range,
          ),
        );
      }
      for (const item of items) {
        const ref = staticSourceRef(item, ctx, diagnostics);
        if (ref === undefined) continue;
        const key = sourceKey(ref);
        const decl = sources.get(key);
        if (!decl) {
          diagnostics.push(error(`Unknown source ${key}`, known, item.range));
          continue;
        }
        uses.push({ key, decl, range: item.range });
      }
    }
    for (const sb of block.body.blocks.filter((b) => b.type === 'source')) {
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
      const decl = sources.get(key);
      if (!decl) {
        diagnostics.push(error(`Unknown source ${key}`, known, sb.labelRanges[0] ?? sb.range));
        continue;
      }
      const renameAttr = sb.body.attributes.find((a) => a.name === 'name');
      const rename = renameAttr ? evalAttr(renameAttr.expr, ctx, diagnostics) : undefined;
      uses.push({ key, decl, ...(typeof rename === 'string' ? { rename } : {}), overrideBlock: sb, range: sb.range });
    }
    const cleanups = block.body.blocks.filter((b) => b.type === 'error-cleanup-provisioner');
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
      const base = evalBody(use.decl.block.body, scoped, diagnostics);
      const config = { ...base.config };
      const keyRanges: KeyRanges = { ...base.keyRanges };
      if (use.overrideBlock) {
        const extra = evalBody(use.overrideBlock.body, scoped, diagnostics, new Set(['name']));
        Object.assign(config, extra.config);
        Object.assign(keyRanges, extra.keyRanges);
      }
      const provisioners: ProvisionerDef[] = [];
      let errorCleanupProvisioner: ProvisionerDef | undefined;
      const postProcessors: PostProcessorDef[][] = [];
      const keepPp = (pp: PostProcessorDef) => !opts.except?.some((p) => globMatch(p, pp.name ?? pp.type));
      for (const b of block.body.blocks) {
        if (b.type === 'provisioner' && appliesTo(b, key, scoped, diagnostics)) {
          provisioners.push(evalProvisioner(b, key, scoped, diagnostics));
        } else if (
          b.type === 'error-cleanup-provisioner' &&
          b === cleanups[0] &&
          appliesTo(b, key, scoped, diagnostics)
        ) {
          errorCleanupProvisioner = evalProvisioner(b, key, scoped, diagnostics);
        } else if (b.type === 'post-processor' && appliesTo(b, key, scoped, diagnostics)) {
          const pp = evalPostProcessor(b, scoped, diagnostics);
          if (keepPp(pp)) postProcessors.push([pp]);
        } else if (b.type === 'post-processors') {
          checkAttributes(b.body, new Set(), new Set(['post-processor']), diagnostics);
          const chain = b.body.blocks
            .filter((p) => p.type === 'post-processor' && appliesTo(p, key, scoped, diagnostics))
            .map((p) => evalPostProcessor(p, scoped, diagnostics))
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
        provisioners,
        ...(errorCleanupProvisioner ? { errorCleanupProvisioner } : {}),
        postProcessors,
      });
    }
  }
  return builds;
}
