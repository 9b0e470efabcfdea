/**
 * Renders every string of a component's JSON configuration with the legacy engine and converts the tree to
 * plain values. A string that depends on a run-time-only value becomes an UnknownValue. Errors point at
 * the offending character in the file.
 */
import { type Diagnostic, error, type SourceRange } from '../../template/diagnostics.ts';
import { isRenderError, type LegacyContext } from '../../template/legacy/context.ts';
import { renderLegacy } from '../../template/legacy/render.ts';
import { currentBudget, withRangeOnLimit } from '../../template/limits.ts';
import { type Config, type KeyRanges, UnknownValue } from '../../template/model.ts';
import type { JsonNode, JsonObjectNode } from './jsonAst.ts';
import type { SourceMap } from './sourceMap.ts';

export interface RenderState {
  readonly ctx: LegacyContext;
  readonly map: SourceMap;
  readonly source: string;
  readonly diagnostics: Diagnostic[];
  readonly sensitive: Set<string>;
  /** Names of the component for messages, e.g. `builder "amazon-ebs"`. */
  readonly where: string;
}

/** Maps an offset inside a decoded string back to the file when no escape changed the length. */
function rangeInString(node: JsonNode & { kind: 'string' }, offset: number, st: RenderState): SourceRange {
  const rawLength = node.end - node.start - 2;
  if (rawLength === node.value.length) return st.map.point(node.start + 1 + offset);
  return st.map.range(node);
}

export function renderString(node: JsonNode & { kind: 'string' }, path: string, st: RenderState): unknown {
  const r = withRangeOnLimit(() => renderLegacy(node.value, st.ctx), st.map.range(node));
  if (isRenderError(r)) {
    st.diagnostics.push(
      error(
        `${st.where}: error rendering "${path}": ${r.error}`,
        `In the template string ${JSON.stringify(node.value)}`,
        rangeInString(node, r.offset ?? 0, st),
      ),
    );
    return node.value;
  }
  for (const s of r.sensitive ?? []) st.sensitive.add(s);
  if (r.unknowns?.length) return new UnknownValue(r.unknowns.join(', '));
  return r.value;
}

/** Depth is bounded by maxNestingDepth, enforced by the JSON parser (load.ts), so recursion is safe here. */
export function renderNode(node: JsonNode, path: string, st: RenderState): unknown {
  currentBudget().step();
  switch (node.kind) {
    case 'string':
      return renderString(node, path, st);
    case 'number':
    case 'bool':
      return node.value;
    case 'null':
      return null;
    case 'array':
      return node.items.map((item, i) => renderNode(item, `${path}[${i}]`, st));
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const e of node.entries) out[e.key] = renderNode(e.value, `${path}.${e.key}`, st);
      return out;
    }
  }
}

/**
 * Renders a component's top-level object, leaving out `meta` keys (type, name, only...) and `_`-prefixed
 * comment keys, and records where each key is written.
 */
export function renderComponent(
  nodes: readonly JsonObjectNode[],
  meta: readonly string[],
  st: RenderState,
): { config: Config; keyRanges: KeyRanges } {
  const config: Config = {};
  const keyRanges: KeyRanges = {};
  // Later objects (provisioner overrides) replace keys of earlier ones, as Packer's decoder does.
  for (const node of nodes) {
    for (const e of node.entries) {
      if (meta.includes(e.key) || e.key.startsWith('_')) continue;
      config[e.key] = renderNode(e.value, e.key, st);
      keyRanges[e.key] = st.map.range(e.keySpan);
    }
  }
  return { config, keyRanges };
}
