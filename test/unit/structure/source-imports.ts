/**
 * The repository's import graph, read from the sources' own import statements (static, re-exports and dynamic
 * with a literal path; type-only imports included): what the structure tests measure.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../../..');
const SOURCE = /\.(ts|mts|mjs|js)$/;

/** Source files under a top-level folder, as repository-relative paths. */
export function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && SOURCE.test(e.name))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

/** Relative specifiers of `import ... from '...'`, `export ... from '...'` and `import('...')`. */
export function importedPaths(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g)) {
    if (m[1]) out.push(m[1]);
  }
  return out;
}

export interface ImportEdge {
  readonly from: string;
  readonly to: string;
}

/** Every relative import of the given files, resolved to repository-relative targets. */
export function importEdges(files: readonly string[]): ImportEdge[] {
  return files.flatMap((from) =>
    importedPaths(readFileSync(join(ROOT, from), 'utf8')).map((spec) => ({
      from,
      to: relative(ROOT, resolve(dirname(join(ROOT, from)), spec)),
    })),
  );
}

/**
 * Edges that run up a layer order: `layerOf` gives a path's rank (higher = above) or undefined for paths outside
 * the order; an import from a lower rank to a higher one is a layering error.
 */
export function upwardEdges(edges: readonly ImportEdge[], layerOf: (path: string) => number | undefined): string[] {
  return edges
    .filter(({ from, to }) => {
      const a = layerOf(from);
      const b = layerOf(to);
      return a !== undefined && b !== undefined && b > a;
    })
    .map(({ from, to }) => `${from} → ${to}`);
}
