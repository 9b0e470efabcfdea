/**
 * One BuildDef per JSON builder, as Packer's Core.Build assembles it: provisioners filtered by only/except
 * (against the uninterpolated builder name) with `override.<name>` merged, post-processor chains filtered
 * the same way (an `-except` naming a post-processor drops it and the rest of its chain), everything rendered
 * in the build's own context (build_name, build_type).
 */
import { type Diagnostic, error } from '../../template/diagnostics.ts';
import { isRenderError, type LegacyContext } from '../../template/legacy/context.ts';
import { renderLegacy } from '../../template/legacy/render.ts';
import type { BuildDef, PostProcessorDef, ProvisionerDef } from '../../template/model.ts';
import { metaKeysOf, type RawBuilder, type RawProvisioner, type RawTemplate } from './decodeRoot.ts';
import { matchesAny } from './glob.ts';
import { type RenderState, renderComponent } from './interpolate.ts';
import { getEntry, type JsonObjectNode } from './jsonAst.ts';
import type { SourceMap } from './sourceMap.ts';

export interface BuildInputs {
  readonly raw: RawTemplate;
  readonly map: SourceMap;
  readonly source: string;
  /** Context with user variables; build name/type are added per build. */
  readonly ctx: LegacyContext;
  readonly only: readonly string[];
  readonly except: readonly string[];
  /**
   * `errors` normally; `none` when earlier errors already fail the template (Packer would have stopped);
   * `warnings` when the variables wait for credentials (Packer stops there too, but the problems are real).
   */
  readonly renderProblems: 'errors' | 'warnings' | 'none';
}

function skip(oe: { only: readonly string[]; except: readonly string[] }, rawName: string): boolean {
  if (oe.only.length > 0) return !oe.only.includes(rawName);
  return oe.except.includes(rawName);
}

function provisionerDef(p: RawProvisioner, rawName: string, st: RenderState): ProvisionerDef {
  const override = p.override ? getEntry(p.override, rawName)?.value : undefined;
  const nodes: JsonObjectNode[] = [p.node];
  if (override?.kind === 'object') nodes.push(override);
  const { config, keyRanges } = renderComponent(nodes, metaKeysOf('provisioner'), {
    ...st,
    where: `provisioner ${p.index + 1} (${p.type})`,
  });
  let maxRetries: number | undefined;
  if (p.maxRetries !== undefined) {
    const r = renderLegacy(p.maxRetries, st.ctx);
    const text = isRenderError(r) ? p.maxRetries : r.value;
    const n = Number(text);
    const node = getEntry(p.node, 'max_retries')?.value ?? p.node;
    if (isRenderError(r)) {
      st.diagnostics.push(error(`failed to interpolate \`max_retries\`: ${r.error}`, undefined, st.map.range(node)));
    } else if (!/^[+-]?\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) {
      st.diagnostics.push(
        error(
          `\`max_retries\` must be a valid integer: strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`,
          undefined,
          st.map.range(node),
        ),
      );
    } else if (n !== 0) {
      maxRetries = n;
    }
  }
  const name = typeof config.name === 'string' ? config.name : undefined;
  return {
    type: p.type,
    ...(name ? { name } : {}),
    config,
    keyRanges,
    ...(p.pauseBefore ? { pauseBefore: p.pauseBefore } : {}),
    ...(maxRetries !== undefined ? { maxRetries } : {}),
    ...(p.timeout ? { timeout: p.timeout } : {}),
    range: st.map.range(p.node),
  };
}

function postProcessorChains(inp: BuildInputs, rawName: string, st: RenderState): PostProcessorDef[][] {
  const chains: PostProcessorDef[][] = [];
  for (const chain of inp.raw.postProcessors) {
    const current: PostProcessorDef[] = [];
    for (const pp of chain) {
      if (skip(pp, rawName)) continue;
      if (inp.except.some((e) => e !== '' && e === pp.name)) break;
      const rendered = pp.node
        ? renderComponent([pp.node], metaKeysOf('post-processor'), {
            ...st,
            where: `post-processor ${pp.chain + 1}.${pp.index + 1} (${pp.type})`,
          })
        : { config: {}, keyRanges: {} };
      current.push({
        type: pp.type,
        ...(pp.name !== pp.type ? { name: pp.name } : {}),
        config: rendered.config,
        keyRanges: rendered.keyRanges,
        ...(pp.keepInputArtifact !== undefined ? { keepInputArtifact: pp.keepInputArtifact } : {}),
        range: st.map.range(pp.span),
      });
    }
    if (current.length > 0) chains.push(current);
  }
  return chains;
}

/** Packer renders builder names with the user variables before matching -only/-except. */
function renderedName(b: RawBuilder, inp: BuildInputs, diagnostics: Diagnostic[]): string {
  const r = renderLegacy(b.name, inp.ctx);
  if (!isRenderError(r)) return r.value;
  const node = getEntry(b.node, 'name')?.value ?? b.node;
  diagnostics.push(error(`Error interpolating builder '${b.name}': ${r.error}`, undefined, inp.map.range(node)));
  return b.name;
}

export function buildDefs(inp: BuildInputs): { builds: BuildDef[]; diagnostics: Diagnostic[]; sensitive: Set<string> } {
  const diagnostics: Diagnostic[] = [];
  const renderDiagnostics: Diagnostic[] = [];
  const sensitive = new Set<string>();
  const builds: BuildDef[] = [];
  for (const b of inp.raw.builders) {
    const name = renderedName(b, inp, diagnostics);
    if (inp.only.length > 0 && !matchesAny(name, inp.only)) continue;
    if (inp.except.length > 0 && matchesAny(name, inp.except)) continue;
    const st: RenderState = {
      ctx: { ...inp.ctx, buildName: name, buildType: b.type },
      map: inp.map,
      source: inp.source,
      diagnostics: renderDiagnostics,
      sensitive,
      where: `builder "${name}"`,
    };
    const { config, keyRanges } = renderComponent([b.node], metaKeysOf('builder'), st);
    const provisioners = inp.raw.provisioners.filter((p) => !skip(p, b.name)).map((p) => provisionerDef(p, b.name, st));
    const cleanup = inp.raw.cleanupProvisioner;
    builds.push({
      name,
      builderType: b.type,
      sourceName: b.name,
      config,
      keyRanges,
      range: inp.map.range(b.node),
      provisioners,
      ...(cleanup ? { errorCleanupProvisioner: provisionerDef(cleanup, b.name, st) } : {}),
      postProcessors: postProcessorChains(inp, b.name, st),
    });
  }
  if (inp.renderProblems === 'errors') diagnostics.push(...renderDiagnostics);
  if (inp.renderProblems === 'warnings')
    diagnostics.push(...renderDiagnostics.map((d) => ({ ...d, severity: 'warning' as const })));
  return { builds, diagnostics, sensitive };
}
