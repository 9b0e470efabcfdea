/**
 * Synthesizes Kiln's CDK app once per set of inputs and caches the cloud assembly in the temp dir, keyed by a hash
 * of everything that shapes it. Parallel test workers share one synthesis: the first takes a lock (an atomic
 * mkdir holding its pid), the others wait for its `done` marker.
 *
 * Kiln's own registry is synthesized exactly as a deploy does it: `cdk synth` with bundling (synth-bundled.ts),
 * so the hash covers everything a bundle is built from (core/, functions/, infra/, package-lock.json, tsconfig,
 * ...). The assembly's folder then gets the runtime's AWS SDK beside the asset folders (lambda-sandbox.ts), so each
 * asset folder is a Lambda task root the harness runs as is. A fixture registry (`registry`, test/fixtures) is
 * synthesized through synth-local.ts without bundling: its functions run from sources (function-code.ts).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { type CloudAssembly, locateStack } from './assembly.ts';
import { provideRuntimeSdk } from './lambda-sandbox.ts';
import { bundledAssets, cdkSynth } from './synth-bundled.ts';

export { type CloudAssembly, locateStack } from './assembly.ts';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..');

export interface SynthOptions {
  /** `<module.ts>#<export>` of a fixture registry (default: functions/registry.ts, bundled). */
  readonly registry?: string;
  /** Where the fixture registry's handlers live. */
  readonly functionsRoot?: string;
  readonly context?: Readonly<Record<string, string>>;
  /** Cache directory parent; default the OS temp dir. Must be outside the repository (lambda-sandbox.ts). */
  readonly cacheRoot?: string;
}

/** What a bundled synthesis is made of: the CDK app, every bundle's sources and build settings, the harness layout. */
export const BUNDLED_INPUTS = [
  'aws',
  'core',
  'functions',
  'infra',
  'statemachines',
  'cdk.json',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'harness/assembly.ts',
  'harness/synth.ts',
  'harness/synth-bundled.ts',
  'harness/lambda-sandbox.ts',
  'scripts/bundle-lambda.ts',
];

/** What decides a fixture registry's template (no bundles): the CDK app, the registries, the ASL, cdk.json. */
const FIXTURE_INPUTS = [
  'infra',
  'functions/registry.ts',
  'statemachines',
  'cdk.json',
  'package-lock.json',
  'harness/synth-local.ts',
];

/** Longest a synthesis may take on a loaded machine before waiting workers give up. */
const SYNTH_TIMEOUT_MS = 600_000;

export async function synthKiln(options: SynthOptions = {}): Promise<CloudAssembly> {
  const bundled = options.registry === undefined && options.functionsRoot === undefined;
  const args = [
    ...(options.registry ? ['--registry', options.registry] : []),
    ...(options.functionsRoot ? ['--functions-root', options.functionsRoot] : []),
    ...Object.entries(options.context ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
  ];
  const key = inputHash([bundled ? 'bundled' : 'fixture', ...args], bundled ? BUNDLED_INPUTS : FIXTURE_INPUTS, options);
  const dir = join(options.cacheRoot ?? tmpdir(), `kiln-synth-${key}`);
  const done = join(dir, '.done');
  const lock = `${dir}.lock`;
  let fresh = false;
  if (!existsSync(done)) {
    if (tryLock(lock)) {
      try {
        rmSync(dir, { recursive: true, force: true });
        if (bundled) {
          await cdkSynth(dir, options.context ?? {});
          provideRuntimeSdk(dir);
        } else {
          await runSynthLocal(dir, args);
        }
        writeFileSync(done, new Date().toISOString());
        fresh = true;
      } finally {
        rmSync(lock, { recursive: true, force: true });
      }
    } else {
      await waitFor(done, lock);
    }
  }
  return { ...locateStack(dir), dir, fresh, ...(bundled ? { bundles: bundledAssets(dir) } : {}) };
}

function tryLock(lock: string): boolean {
  try {
    mkdirSync(lock);
    writeFileSync(join(lock, 'pid'), String(process.pid));
    return true;
  } catch {
    if (stale(lock)) {
      rmSync(lock, { recursive: true, force: true });
      return tryLock(lock);
    }
    return false;
  }
}

/** A lock left over from a killed run: its holder is gone, or it is older than the longest synthesis. */
function stale(lock: string): boolean {
  try {
    if (Date.now() - statSync(lock).mtimeMs > SYNTH_TIMEOUT_MS) return true;
    const pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // ESRCH: no such process (the holder died); ENOENT: the lock went away meanwhile or has no pid yet.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function waitFor(done: string, lock: string): Promise<void> {
  const deadline = Date.now() + SYNTH_TIMEOUT_MS;
  while (!existsSync(done)) {
    if (!existsSync(lock) || stale(lock)) {
      throw new Error('synth: the worker that held the lock failed or was killed; see its output');
    }
    if (Date.now() > deadline) throw new Error('synth: timed out waiting for another worker');
    await new Promise((r) => setTimeout(r, 200));
  }
}

function runSynthLocal(outdir: string, args: string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(PROJECT_ROOT, 'harness/synth-local.ts'), outdir, ...args],
      {
        cwd: PROJECT_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
      },
    );
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolvePromise() : reject(new Error(`synth failed (exit ${code}):\n${output.slice(-4000)}`)),
    );
  });
}

function inputHash(args: string[], inputs: readonly string[], options: SynthOptions): string {
  const hash = createHash('sha256').update(JSON.stringify(args));
  const machines = options.context?.['kiln:stateMachinesDir'];
  const files = [...inputs, ...(machines ? [machines] : [])].flatMap((p) => listFiles(resolve(PROJECT_ROOT, p)));
  const registryFile = options.registry?.split('#')[0];
  if (registryFile) files.push(resolve(PROJECT_ROOT, registryFile));
  for (const file of files.sort()) hash.update(relative(PROJECT_ROOT, file)).update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

function listFiles(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((name) => listFiles(join(path, name)));
}
