/**
 * Builds the `kiln` CLI bundle, dist/kiln.mjs, with the same esbuild recipe as the Lambdas
 * (infra/bundle-recipe.ts) and the template engine's wasm files beside it. Run by scripts/setup.sh and, when a
 * source is newer than the bundle, by scripts/ensure-setup.sh (npm pretest/prestart/prekiln).
 *
 * Usage: node --import tsx scripts/build-cli.ts [outdir]   (default dist)
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';
import {
  BANNER,
  ESBUILD_COMMON,
  EXTERNAL_ALWAYS,
  runtimeFileSource,
  TEMPLATE_ENGINE_FILES,
} from '../infra/bundle-recipe.ts';

const ROOT = resolve(import.meta.dirname, '..');

export async function buildCli(outdir = join(ROOT, 'dist')): Promise<string> {
  rmSync(outdir, { recursive: true, force: true });
  const outfile = join(outdir, 'kiln.mjs');
  await build({
    ...ESBUILD_COMMON,
    mainFields: [...ESBUILD_COMMON.mainFields],
    entryPoints: [join(ROOT, 'cli/main.ts')],
    outfile,
    // Users run the CLI without node_modules beside it in mind: everything but `performance` is inside.
    external: [...EXTERNAL_ALWAYS],
    banner: { js: BANNER },
    logLevel: 'warning',
  });
  for (const file of TEMPLATE_ENGINE_FILES) {
    const target = join(outdir, file.to);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(runtimeFileSource(ROOT, file), target);
  }
  return outfile;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const out = await buildCli(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(`build-cli: ${out}`);
}
