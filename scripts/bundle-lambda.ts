/**
 * Builds one Lambda asset folder with the bundle recipe (infra/bundle-recipe.ts `bundleLambda`). Run by the CDK
 * app's local bundling (infra/constructs/build-pipeline.ts) in a child process, because CDK asks for the asset
 * synchronously and esbuild plugins only run in its asynchronous JS API.
 *
 * Usage: node --import tsx scripts/bundle-lambda.ts <handler.ts> <output dir> [--template-engine]
 */
import { resolve } from 'node:path';
import { bundleLambda } from '../infra/bundle-recipe.ts';

const [entry, outputDir, ...flags] = process.argv.slice(2);
const unknown = flags.filter((f) => f !== '--template-engine');
if (!entry || !outputDir || unknown.length > 0) {
  process.stderr.write('usage: bundle-lambda.ts <handler.ts> <output dir> [--template-engine]\n');
  process.exit(2);
}
await bundleLambda({
  projectRoot: resolve(import.meta.dirname, '..'),
  entry: resolve(entry),
  outputDir: resolve(outputDir),
  templateEngine: flags.includes('--template-engine'),
});
