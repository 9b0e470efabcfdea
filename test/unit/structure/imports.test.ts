/**
 * Product code never imports test code: the CLI, kiln-agent, the Lambdas, the CDK app, the local runtime (harness/), the
 * setup scripts and the benchmarks stand on their own, and tests import them, never the other way round.
 * Read from the sources' own import statements (static and dynamic with a literal path).
 */
import { describe, expect, it } from 'vitest';
import { importEdges, importedPaths, sources } from './source-imports.ts';

const PRODUCT = ['agent', 'aws', 'bench', 'cli', 'core', 'functions', 'harness', 'infra', 'scripts'];

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
    const offending = importEdges(files.filter((f) => f.startsWith(`${dir}/`)))
      .filter(({ to }) => to === 'test' || to.startsWith('test/'))
      .map(({ from, to }) => `${from} → ${to}`);
    expect(offending).toEqual([]);
  });
});
