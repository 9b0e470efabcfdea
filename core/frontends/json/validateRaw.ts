/**
 * Packer's Template.Validate for legacy JSON: at least one builder; only/except/override must name builders
 * that exist (by their uninterpolated names); only and except are exclusive.
 */
import { type Diagnostic, error } from '../../template/diagnostics.ts';
import { suggest } from '../../template/suggest.ts';
import type { RawTemplate } from './decodeRoot.ts';
import { getEntry, type JsonObjectNode, type JsonSpan } from './jsonAst.ts';
import type { SourceMap } from './sourceMap.ts';

interface OnlyExcept {
  readonly only: readonly string[];
  readonly except: readonly string[];
}

function hint(name: string, builders: readonly string[]): string | undefined {
  const s = suggest(name, builders);
  return s ? `Did you mean "${s}"?` : undefined;
}

export function validateRaw(raw: RawTemplate, map: SourceMap, rootSpan: JsonSpan): Diagnostic[] {
  const out: Diagnostic[] = [];
  const builderNames = raw.builders.map((b) => b.name);
  const exists = new Set(builderNames);
  if (raw.builders.length === 0) {
    out.push(error('at least one builder must be defined', undefined, map.range(raw.buildersSpan ?? rootSpan)));
  }
  const checkOnlyExcept = (prefix: string, oe: OnlyExcept, node: JsonObjectNode | undefined, span: JsonSpan) => {
    const where = (k: string) => map.range(node ? (getEntry(node, k)?.value ?? span) : span);
    if (oe.only.length > 0 && oe.except.length > 0) {
      out.push(error(`${prefix}only one of 'only' or 'except' may be specified`, undefined, where('except')));
      return;
    }
    for (const [key, names] of [
      ['only', oe.only],
      ['except', oe.except],
    ] as const) {
      for (const n of names) {
        if (!exists.has(n)) {
          out.push(error(`${prefix}'${key}' specified builder '${n}' not found`, hint(n, builderNames), where(key)));
        }
      }
    }
  };
  raw.provisioners.forEach((p, i) => {
    const prefix = `provisioner ${i + 1}: `;
    checkOnlyExcept(prefix, p, p.node, p.node);
    for (const e of p.override?.entries ?? []) {
      if (!exists.has(e.key)) {
        out.push(error(`${prefix}override '${e.key}' doesn't exist`, hint(e.key, builderNames), map.range(e.keySpan)));
      }
    }
  });
  raw.postProcessors.forEach((chain, i) => {
    chain.forEach((pp, j) => {
      checkOnlyExcept(`post-processor ${i + 1}.${j + 1}: `, pp, pp.node, pp.span);
    });
  });
  return out;
}
