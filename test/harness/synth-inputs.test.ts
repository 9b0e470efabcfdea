/**
 * The harness caches its bundled synthesis by a hash of BUNDLED_INPUTS: a source file a bundle is built from
 * but missing from that list would leave the harness running a stale bundle. esbuild's own account of what it
 * read (the metafile of every registry handler, bundled with the recipe's settings) must be covered.
 */
import { relative, resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { KILN_FUNCTIONS } from '../../functions/registry.ts';
import { BUNDLED_INPUTS } from '../../harness/synth.ts';
import { ESBUILD_COMMON, EXTERNAL_ALWAYS, LAMBDA_OUTPUT, LAMBDA_PLUGINS } from '../../infra/bundle-recipe.ts';

const ROOT = resolve(import.meta.dirname, '../..');

const covered = (file: string): boolean =>
  BUNDLED_INPUTS.some((input) => file === input || file.startsWith(`${input}/`));

describe('the bundled synthesis cache key', () => {
  it('covers every repository file esbuild reads for the Lambda bundles', async () => {
    const result = await build({
      ...ESBUILD_COMMON,
      mainFields: [...ESBUILD_COMMON.mainFields],
      entryPoints: KILN_FUNCTIONS.map((f) => resolve(ROOT, 'functions', f.dir, 'handler.ts')),
      ...LAMBDA_OUTPUT,
      // All handlers in one build: one folder each, as one asset each would be.
      entryNames: '[dir]/index',
      external: [...EXTERNAL_ALWAYS],
      plugins: [...LAMBDA_PLUGINS],
      outdir: '/nonexistent',
      write: false,
      metafile: true,
      logLevel: 'silent',
      absWorkingDir: ROOT,
    });
    const sources = Object.keys(result.metafile.inputs)
      .map((file) => relative(ROOT, resolve(ROOT, file)))
      .filter((file) => !file.includes('node_modules/'))
      // The recipe's virtual modules for Node built-ins (nodeBuiltinsPlugin) are not files.
      .filter((file) => !/^[a-z-]+:/.test(file));
    // The handlers, the engine, the errors: far more than a handful, or the metafile was misread.
    expect(sources.length).toBeGreaterThan(50);
    expect(sources.filter((file) => !covered(file))).toEqual([]);
  }, 60_000);

  it.each([
    ['the bundle recipe', 'infra/bundle-recipe.ts'],
    ['the bundling script CDK runs', 'scripts/bundle-lambda.ts'],
    ['the locked dependency versions', 'package-lock.json'],
    ['the TypeScript settings esbuild reads', 'tsconfig.json'],
    ['the CDK context', 'cdk.json'],
    ['the state machine definitions', 'statemachines/build.asl.json'],
    ['the driver files the definitions include', 'statemachines/drivers/ec2-ami.asl.json'],
    ['the harness layout of the assembly', 'harness/lambda-sandbox.ts'],
  ])('covers %s (%s)', (_name, file) => {
    expect(covered(file)).toBe(true);
  });
});
