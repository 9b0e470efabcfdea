/**
 * Builds `kiln-agent` into one file, dist/kiln-agent.mjs, with the same esbuild recipe as the CLI and the
 * Lambdas (infra/bundle-recipe.ts): copied to an on-prem host it runs with plain `node` (22+), no repository and
 * no node_modules. Run by scripts/build-cli.ts (so by setup and ensure-setup) after the CLI bundle.
 *
 * Usage: node --import tsx scripts/build-agent.ts [outdir]   (default dist)
 */
import { chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { ESBUILD_COMMON, EXTERNAL_ALWAYS } from '../infra/bundle-recipe.ts';

const ROOT = resolve(import.meta.dirname, '..');

/** `require` for the CommonJS dependencies inside (commander); the agent needs no __dirname. */
const AGENT_BANNER = [
  '#!/usr/bin/env node',
  "import { createRequire as __kilnCreateRequire } from 'node:module';",
  'const require = __kilnCreateRequire(import.meta.url);',
].join('\n');

export async function buildAgent(outdir = join(ROOT, 'dist')): Promise<string> {
  const outfile = join(outdir, 'kiln-agent.mjs');
  await build({
    ...ESBUILD_COMMON,
    mainFields: [...ESBUILD_COMMON.mainFields],
    entryPoints: [join(ROOT, 'agent/main.ts')],
    outfile,
    external: [...EXTERNAL_ALWAYS],
    banner: { js: AGENT_BANNER },
    logLevel: 'warning',
  });
  chmodSync(outfile, 0o755);
  return outfile;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const out = await buildAgent(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(`build-agent: ${out}`);
}
