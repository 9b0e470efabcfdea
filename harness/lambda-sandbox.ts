/**
 * Runs a synthesized Lambda asset outside the repository, laid out as the nodejs22.x runtime sees it: the asset
 * folder's files alone as the task root, and only the AWS SDK (which the runtime provides; the bundles carry their
 * own copy and must not need it) resolvable beside it. Any other package the bundle forgot fails to load here.
 * Used by the bundle tests, `npm run bench bundles` and the harness's synthesized assembly (synth.ts).
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..');
/** Node 22 from node_modules, as every npm script uses. */
export const NODE22 = join(PROJECT_ROOT, 'node_modules/.bin/node');
const RUNNER = join(import.meta.dirname, 'invoke-bundle.mjs');

export interface Sandbox {
  /** The task root: a copy of the asset folder. */
  readonly taskDir: string;
  readonly entry: string;
  remove(): void;
}

export function sandboxFor(assetDir: string): Sandbox {
  const root = mkdtempSync(join(tmpdir(), 'kiln-lambda-'));
  const taskDir = join(root, 'task');
  cpSync(assetDir, taskDir, { recursive: true });
  provideRuntimeSdk(root);
  return { taskDir, entry: join(taskDir, 'index.mjs'), remove: () => rmSync(root, { recursive: true, force: true }) };
}

/**
 * Makes the runtime's AWS SDK, and nothing else, resolvable from every task folder directly inside `root` (Node's
 * ESM lookup walks parent node_modules folders), as the nodejs22.x runtime provides it. `root` must be outside
 * the repository, or the bundles would also resolve the repository's node_modules and a package a bundle forgot
 * would load here but not in Lambda.
 */
export function provideRuntimeSdk(root: string): void {
  if (!relative(PROJECT_ROOT, resolve(root)).startsWith('..')) {
    throw new Error(`${root}: a Lambda task root inside the repository would resolve its node_modules`);
  }
  mkdirSync(join(root, 'node_modules'), { recursive: true });
  symlinkSync(join(PROJECT_ROOT, 'node_modules/@aws-sdk'), join(root, 'node_modules/@aws-sdk'), 'dir');
}

export interface Invocation {
  readonly ok: boolean;
  readonly value?: unknown;
  readonly errorType?: string;
  readonly errorMessage?: string;
  readonly importMs: number;
  readonly invokeMs: number;
  /** CPU time (user + system) of the whole process, start-up included. */
  readonly cpuMs: number;
  /** Whole process, spawn to exit, as measured from here. */
  readonly processMs: number;
  readonly exitCode: number | null;
  readonly stderr: string;
}

/** Imports `entry` and invokes its handler once, in a fresh Node 22 process with exactly `env` (plus PATH). */
export async function invokeInFreshProcess(
  entry: string,
  event: unknown,
  env: Readonly<Record<string, string>>,
): Promise<Invocation> {
  const { results, processMs, exitCode, stderr } = await runBundle(entry, event, env, false);
  return { ...(results as Omit<Invocation, 'processMs' | 'exitCode' | 'stderr'>), processMs, exitCode, stderr };
}

/** Several events through one fresh process, one after the other (hostile-input tables: import once). */
export async function invokeManyInFreshProcess(
  entry: string,
  events: readonly unknown[],
  env: Readonly<Record<string, string>>,
): Promise<Invocation[]> {
  const { results, processMs, exitCode, stderr } = await runBundle(entry, events, env, true);
  return (results as Omit<Invocation, 'processMs' | 'exitCode' | 'stderr'>[]).map((r) => ({
    ...r,
    processMs,
    exitCode,
    stderr,
  }));
}

interface RawRun {
  readonly results: unknown;
  readonly processMs: number;
  readonly exitCode: number | null;
  readonly stderr: string;
}

function runBundle(
  entry: string,
  event: unknown,
  env: Readonly<Record<string, string>>,
  many: boolean,
): Promise<RawRun> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-invoke-'));
  const eventFile = join(dir, 'event.json');
  const resultFile = join(dir, 'result.json');
  writeFileSync(eventFile, JSON.stringify(event));
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(NODE22, [RUNNER, entry, eventFile, resultFile, ...(many ? ['--many'] : [])], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('close', (exitCode) => {
      const processMs = performance.now() - started;
      try {
        resolvePromise({ results: JSON.parse(readFileSync(resultFile, 'utf8')), processMs, exitCode, stderr });
      } catch {
        reject(new Error(`${entry}: no result (exit ${exitCode}):\n${stderr.slice(-3000)}`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
