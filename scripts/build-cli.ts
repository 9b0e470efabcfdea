/**
 * Builds the `kiln` CLI bundle, dist/kiln.mjs (and kiln-agent's, dist/kiln-agent.mjs, scripts/build-agent.ts), with the same esbuild recipe as the Lambdas
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
  buildHclGatePackage,
  ESBUILD_COMMON,
  EXTERNAL_ALWAYS,
  runtimeFileSource,
  TEMPLATE_ENGINE_FILES,
} from '../infra/bundle-recipe.ts';
import { buildAgent } from './build-agent.ts';

const ROOT = resolve(import.meta.dirname, '..');

export async function buildCli(outdir = join(ROOT, 'dist')): Promise<string> {
  rmSync(outdir, { recursive: true, force: true });
  const outfile = join(outdir, 'kiln.mjs');
  await build({
    ...ESBUILD_COMMON,
    mainFields: [...ESBUILD_COMMON.mainFields],
    entryPoints: { kiln: join(ROOT, 'cli/main.ts') },
    outdir,
    // Split at the commands' dynamic imports: `kiln validate` does not parse the AWS SDK the registry commands
    // carry (chunks sit beside kiln.mjs, where the wasm files are looked for).
    splitting: true,
    chunkNames: 'kiln-[name]-[hash]',
    outExtension: { '.js': '.mjs' },
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
  // The HCL syntax gate's worker loads @cdktf/hcl2json by name: ship it beside the bundle, as the Lambdas do, so
  // the CLI runs without the project's node_modules.
  await buildHclGatePackage(ROOT, outdir);
  // kiln-agent (dist/kiln-agent.mjs) beside it: the folder was just emptied, and setup builds both at once.
  await buildAgent(outdir);
  return outfile;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const out = await buildCli(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(`build-cli: ${out}`);
}
