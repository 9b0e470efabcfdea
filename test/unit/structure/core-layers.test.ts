/**
 * Inside core/ (below layers.test.ts's top-level order), imports run one way too: down. Each module belongs to one layer (by path, longest prefix
 * wins); a module may import its own layer's modules and any lower layer's, never a higher one's, and modules of
 * sibling groups in one layer (the provisioner and post-processor catalogs) do not import each other. DESIGN.md
 * ("Layers of core/") gives the order; at most one edge may be allowed up, named there and here. Edges come from
 * the sources' own relative imports, type-only imports included (a type import depends on the type's layer).
 */
import { describe, expect, it } from 'vitest';
import { type ImportEdge, importEdges, importedPaths, sources } from './source-imports.ts';

/**
 * Bottom to top. Each layer is a list of sibling groups; each group is a list of path prefixes (a folder ends in
 * `/`). The template model (model, diagnostics, limits, the `{{ }}` engine) and the HCL language (core/hcl/:
 * syntax, evaluation, functions) are the floor the schema kit converts values with, while decoding a template's
 * blocks (the JSON and HCL front ends in core/frontends/json, core/frontends/hcl) checks each body against the
 * component catalogs, as Packer's decoder checks a block against its plugin's spec, so the front ends sit above
 * the catalogs.
 */
const LAYERS: readonly (readonly (readonly string[])[])[] = [
  [['core/errors.ts'], ['core/values/'], ['core/files/']],
  [['core/template/']],
  [['core/hcl/']],
  [['core/schema/']],
  [['core/builders/']],
  [['core/provisioners/'], ['core/postprocessors/'], ['core/datasources/']],
  [['core/frontends/']],
  [['core/plan/'], ['core/manifest/']],
  [['core/docker/']],
  [['core/validation/']],
  [['core/image-registry/'], ['core/agents/'], ['core/fleet/']],
];

/** Edges allowed to run up, `from → to` by module path, each with its reason; at most one. None today. */
const ALLOWED_UP: readonly string[] = [];

interface Place {
  readonly layer: number;
  readonly group: number;
}

/** The layer and sibling group of a module: the longest matching prefix wins. */
function placeOf(path: string): Place | undefined {
  let best: (Place & { length: number }) | undefined;
  LAYERS.forEach((groups, layer) => {
    groups.forEach((prefixes, group) => {
      for (const prefix of prefixes) {
        const hit = prefix.endsWith('/') ? path.startsWith(prefix) : path === prefix;
        if (hit && (!best || prefix.length > best.length)) best = { layer, group, length: prefix.length };
      }
    });
  });
  return best && { layer: best.layer, group: best.group };
}

/** Edges that break the order: up a layer, or across sibling groups of one layer. */
function violations(all: readonly ImportEdge[]): string[] {
  return all
    .filter(({ from, to }) => {
      const a = placeOf(from);
      const b = placeOf(to);
      if (!a || !b) return false;
      return b.layer > a.layer || (b.layer === a.layer && b.group !== a.group);
    })
    .map(({ from, to }) => `${from} → ${to}`);
}

describe('layers of core/', () => {
  const files = sources('core').filter((f) => f.endsWith('.ts'));
  const all = importEdges(files);

  it('places every core module in a layer', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files.filter((f) => !placeOf(f))).toEqual([]);
  });

  it('core imports nothing outside core/ (relative imports stay inside)', () => {
    expect(all.filter((e) => !e.to.startsWith('core/')).map((e) => `${e.from} → ${e.to}`)).toEqual([]);
  });

  it('reads type-only, re-export and dynamic imports as edges', () => {
    const text = `import type { A } from '../a.ts';\nexport { b } from './b.ts';\nconst c = await import('./c.ts');`;
    expect(importedPaths(text)).toEqual(['../a.ts', './b.ts', './c.ts']);
  });

  it('flags an edge up a layer and one across siblings, not one down or within a group', () => {
    expect(
      violations([
        { from: 'core/template/model.ts', to: 'core/validation/rules/types.ts' },
        { from: 'core/postprocessors/shell-local.ts', to: 'core/provisioners/shell-local.ts' },
        { from: 'core/hcl/eval/types.ts', to: 'core/frontends/hcl/blocks/builds.ts' },
        { from: 'core/schema/spec.ts', to: 'core/frontends/hcl/load.ts' },
        { from: 'core/provisioners/shell.ts', to: 'core/schema/define.ts' },
        { from: 'core/builders/registry.ts', to: 'core/builders/null.ts' },
        { from: 'core/frontends/hcl/blocks/data-sources.ts', to: 'core/datasources/schemas.ts' },
        { from: 'core/frontends/hcl/load.ts', to: 'core/frontends/hcl/blocks/builds.ts' },
        { from: 'core/frontends/hcl/load.ts', to: 'core/hcl/eval/context.ts' },
      ]),
    ).toEqual([
      'core/template/model.ts → core/validation/rules/types.ts',
      'core/postprocessors/shell-local.ts → core/provisioners/shell-local.ts',
      'core/hcl/eval/types.ts → core/frontends/hcl/blocks/builds.ts',
      'core/schema/spec.ts → core/frontends/hcl/load.ts',
    ]);
  });

  it('imports run down the layers, except an allowed edge (none today)', () => {
    expect(violations(all).filter((v) => !ALLOWED_UP.includes(v))).toEqual([]);
  });

  it('every allowed edge still exists (remove it from ALLOWED_UP when it goes), and there is at most one', () => {
    expect(violations(all)).toEqual(expect.arrayContaining([...ALLOWED_UP]));
    expect(ALLOWED_UP.length).toBeLessThanOrEqual(1);
  });
});
