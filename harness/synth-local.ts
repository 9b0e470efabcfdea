/**
 * Synthesizes the CDK app with a fixture registry of the harness tests (test/fixtures), with asset bundling
 * skipped: those fixture handlers run from their TypeScript sources (function-code.ts, `fixture-sources`), so
 * bundles would never run. Kiln's own registry is never synthesized here: synth.ts runs `cdk synth` with
 * bundling for it, as a deploy does. `cdk synth` cannot skip
 * bundling (the CLI forces `aws:cdk:bundling-stacks` to all stacks for synth, overriding `-c`), so this entry
 * builds the same app through `createKilnApp` and sets it after CLI context.
 *
 * Usage: node --import tsx harness/synth-local.ts <outdir> [options]
 *   --registry <module.ts>#<export>   a fixture registry instead of functions/registry.ts
 *   --functions-root <dir>            where its handlers live
 *   -c key=value                      CDK context over cdk.json's (kiln:stateMachinesDir=..., ...)
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FunctionSpec } from '../functions/registry.ts';
import { createKilnApp, PROJECT_ROOT } from '../infra/kiln-app.ts';

async function main(argv: string[]): Promise<void> {
  const [outdir, ...rest] = argv;
  if (!outdir) throw new Error('usage: synth-local.ts <outdir> [--registry m.ts#EXPORT] [--functions-root d] [-c k=v]');
  const context: Record<string, string> = {};
  let functions: readonly FunctionSpec[] | undefined;
  let functionsRoot: string | undefined;
  for (let i = 0; i < rest.length; i += 2) {
    const [flag, value] = [rest[i], rest[i + 1] ?? ''];
    if (flag === '-c') {
      const eq = value.indexOf('=');
      context[value.slice(0, eq)] = value.slice(eq + 1);
    } else if (flag === '--registry') {
      const [file, name] = value.split('#');
      const module = (await import(pathToFileURL(resolve(file ?? '')).href)) as Record<string, unknown>;
      functions = module[name ?? 'KILN_FUNCTIONS'] as readonly FunctionSpec[];
    } else if (flag === '--functions-root') {
      functionsRoot = resolve(value);
    } else {
      throw new Error(`synth-local: unknown option ${flag}`);
    }
  }
  // What `cdk synth` would pass: cdk.json's context, then -c values over it.
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const { app } = createKilnApp({
    appProps: {
      outdir: resolve(outdir),
      context: { ...cdkJson.context, ...context },
      postCliContext: { 'aws:cdk:bundling-stacks': [] },
    },
    ...(functions ? { functions } : {}),
    ...(functionsRoot ? { functionsRoot } : {}),
  });
  app.synth();
}

await main(process.argv.slice(2));
