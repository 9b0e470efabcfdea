/**
 * Product code never imports test code: the CLI, the Lambdas, the CDK app, the local runtime (harness/), the
 * setup scripts and the benchmarks stand on their own, and tests import them, never the other way round.
 * Read from the sources' own import statements (static and dynamic with a literal path).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const PRODUCT = ['bench', 'cli', 'core', 'functions', 'harness', 'infra', 'scripts'];
const SOURCE = /\.(ts|mts|mjs|js)$/;

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && SOURCE.test(e.name))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

/** Relative specifiers of `import ... from '...'`, `export ... from '...'` and `import('...')`. */
function importedPaths(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g)) {
    if (m[1]) out.push(m[1]);
  }
  return out;
}

describe('import direction', () => {
  it('finds relative imports in the forms the code uses', () => {
    const text = `import a from './a.ts';\nexport { b } from "../b.ts";\nconst c = await import('./c.ts');\nimport './d.ts';`;
    expect(importedPaths(text)).toEqual(['./a.ts', '../b.ts', './c.ts', './d.ts']);
  });

  const files = PRODUCT.flatMap(sources);
  it('reads the product folders', () => {
    expect(files.length).toBeGreaterThan(100);
  });

  it.each(PRODUCT)('nothing under %s/ imports from test/', (dir) => {
    const offending = files
      .filter((f) => f.startsWith(`${dir}/`))
      .flatMap((f) =>
        importedPaths(readFileSync(join(ROOT, f), 'utf8'))
          .map((spec) => relative(ROOT, resolve(dirname(join(ROOT, f)), spec)))
          .filter((target) => target === 'test' || target.startsWith('test/'))
          .map((target) => `${f} → ${target}`),
      );
    expect(offending).toEqual([]);
  });
});
