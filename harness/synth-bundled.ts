/**
 * `cdk synth` exactly as a deploy runs it (bundling on, esbuild through NodejsFunction and infra/bundle-recipe.ts,
 * cdk-nag on), into a given folder, then the asset folder of every Lambda by registry id. Used by the harness's
 * cached synthesis (synth.ts), the bundle tests and `npm run bench bundles`.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CloudAssembly, locateStack } from './assembly.ts';
import { PROJECT_ROOT } from './lambda-sandbox.ts';

export interface BundledAssembly {
  readonly assembly: CloudAssembly;
  /** Registry id (KILN_FUNCTION_ID) → asset folder holding index.mjs. */
  readonly assets: ReadonlyMap<string, string>;
  readonly synthMs: number;
}

export async function synthBundled(
  outdir: string,
  context: Readonly<Record<string, string>> = {},
): Promise<BundledAssembly> {
  const started = performance.now();
  await cdkSynth(outdir, context);
  const synthMs = performance.now() - started;
  const stack = locateStack(outdir);
  return { assembly: { ...stack, dir: outdir, fresh: true }, assets: bundledAssets(outdir), synthMs };
}

/** `cdk synth --no-notices -q -o <outdir>`, with `-c key=value` for each context entry. */
export function cdkSynth(outdir: string, context: Readonly<Record<string, string>> = {}): Promise<void> {
  const args = Object.entries(context).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  return run(join(PROJECT_ROOT, 'node_modules/.bin/cdk'), ['synth', '--no-notices', '-q', '-o', outdir, ...args]);
}

/**
 * Each Lambda's asset folder in a synthesized assembly, by its `KILN_FUNCTION_ID`, from the template's
 * `aws:asset:path` metadata. Throws when a function's asset has no `index.mjs` (not bundled).
 */
export function bundledAssets(outdir: string): Map<string, string> {
  const stack = locateStack(outdir);
  const template = JSON.parse(readFileSync(stack.templateFile, 'utf8')) as {
    Resources: Record<
      string,
      {
        Type: string;
        Metadata?: Record<string, unknown>;
        Properties?: { Environment?: { Variables?: Record<string, unknown> } };
      }
    >;
  };
  const assets = new Map<string, string>();
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const id = resource.Properties?.Environment?.Variables?.KILN_FUNCTION_ID;
    const path = resource.Metadata?.['aws:asset:path'];
    if (typeof id !== 'string' || typeof path !== 'string') continue;
    const dir = join(outdir, path);
    if (!existsSync(join(dir, 'index.mjs'))) throw new Error(`synth: ${id}'s asset ${path} has no index.mjs`);
    assets.set(id, dir);
  }
  return assets;
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        PATH: `${join(PROJECT_ROOT, 'node_modules/.bin')}:${process.env.PATH ?? ''}`,
        CDK_DISABLE_CLI_TELEMETRY: 'true',
      },
    });
    let output = '';
    const collect = (c: Buffer) => {
      output += c.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolvePromise() : reject(new Error(`cdk synth failed (exit ${code}):\n${output.slice(-4000)}`)),
    );
  });
}
