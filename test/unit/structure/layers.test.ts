/**
 * core/ is layered, and imports run one way: down. Each module belongs to one layer (by path, longest prefix
 * wins); a module may import its own layer's modules and any lower layer's, never a higher one's, and modules of
 * sibling groups in one layer (the provisioner and post-processor catalogs) do not import each other. DESIGN.md
 * ("Layers of core/") gives the order and the one allowed exception. Edges come from the sources' own relative
 * imports, type-only imports included (a type import is still a dependency on the layer that owns the type).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');

/** Bottom to top; each inner list is one layer's sibling groups (path prefixes). */
const LAYERS: readonly (readonly string[])[] = [
  ['core/errors.ts', 'core/values/', 'core/files/'],
  ['core/template/'],
  ['core/schema/'],
  ['core/builders/'],
  ['core/provisioners/', 'core/postprocessors/', 'core/datasources/'],
  ['core/plan/', 'core/manifest/'],
  ['core/validation/'],
];

/**
 * The one edge allowed to run up, `from → to` by module path. HCL evaluates `data` blocks while it evaluates
 * the template (their results feed locals and sources), so the HCL front end checks a data block's body against
 * the data-source catalog before resolving it. Injecting the catalog through LoadOptions would make every direct
 * caller of the front end pass it or silently lose the checks.
 */
const ALLOWED_UP: readonly string[] = ['core/template/hcl/blocks/data-sources.ts → core/datasources/schemas.ts'];

interface Place {
  readonly layer: number;
  readonly group: string;
}

function placeOf(path: string): Place | undefined {
  let best: (Place & { length: number }) | undefined;
  LAYERS.forEach((groups, layer) => {
    for (const group of groups) {
      const hit = group.endsWith('/') ? path.startsWith(group) : path === group;
      if (hit && (!best || group.length > best.length)) best = { layer, group, length: group.length };
    }
  });
  return best && { layer: best.layer, group: best.group };
}

/** Relative specifiers of `import ... from`, `export ... from`, `import type ... from` and `import('...')`. */
function importedPaths(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g)) {
    if (m[1]) out.push(m[1]);
  }
  return out;
}

function coreModules(): string[] {
  return readdirSync(join(ROOT, 'core'), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.ts$/.test(e.name))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

interface Edge {
  readonly from: string;
  readonly to: string;
}

function edges(files: readonly string[]): Edge[] {
  return files.flatMap((from) =>
    importedPaths(readFileSync(join(ROOT, from), 'utf8')).map((spec) => ({
      from,
      to: relative(ROOT, resolve(dirname(join(ROOT, from)), spec)),
    })),
  );
}

/** Edges that break the order: up a layer, or across sibling groups of one layer. */
function violations(all: readonly Edge[]): string[] {
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
  const files = coreModules();
  const all = edges(files);

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

  it('flags an edge up a layer and one across siblings, not one down', () => {
    expect(
      violations([
        { from: 'core/template/model.ts', to: 'core/validation/rules/types.ts' },
        { from: 'core/postprocessors/shell-local.ts', to: 'core/provisioners/shell-local.ts' },
        { from: 'core/provisioners/shell.ts', to: 'core/schema/define.ts' },
        { from: 'core/builders/registry.ts', to: 'core/builders/null.ts' },
      ]),
    ).toEqual([
      'core/template/model.ts → core/validation/rules/types.ts',
      'core/postprocessors/shell-local.ts → core/provisioners/shell-local.ts',
    ]);
  });

  it('imports run down the layers, except the one allowed edge', () => {
    expect(violations(all).filter((v) => !ALLOWED_UP.includes(v))).toEqual([]);
  });

  it('the allowed edge still exists (remove it from ALLOWED_UP when it goes)', () => {
    expect(violations(all)).toEqual(expect.arrayContaining([...ALLOWED_UP]));
    expect(ALLOWED_UP.length).toBeLessThanOrEqual(1);
  });
});
