/**
 * Synthesizes Kiln's CDK app once per set of inputs (synth-local.ts in a child process, ~5-9 s) and caches the
 * cloud assembly in the temp dir, keyed by a hash of everything that shapes the template. Parallel test workers
 * share one synthesis: the first takes a lock (an atomic mkdir), the others wait for its `done` marker.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..');

export interface SynthOptions {
  /** `<module.ts>#<export>` of a fixture registry (default: functions/registry.ts). */
  readonly registry?: string;
  readonly functionsRoot?: string;
  readonly context?: Readonly<Record<string, string>>;
  /** Cache directory parent; default the OS temp dir. */
  readonly cacheRoot?: string;
}

export interface CloudAssembly {
  readonly dir: string;
  readonly stackName: string;
  readonly templateFile: string;
  readonly assetsFile: string;
  /** Whether this call synthesized (false: served from the cache). */
  readonly fresh: boolean;
}

/** What decides the synthesized template: the CDK app, the registry, the ASL files, cdk.json, the options. */
const INPUTS = [
  'infra',
  'functions/registry.ts',
  'statemachines',
  'cdk.json',
  'package-lock.json',
  'harness/synth-local.ts',
];

export async function synthKiln(options: SynthOptions = {}): Promise<CloudAssembly> {
  const args = [
    ...(options.registry ? ['--registry', options.registry] : []),
    ...(options.functionsRoot ? ['--functions-root', options.functionsRoot] : []),
    ...Object.entries(options.context ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
  ];
  const key = inputHash(args, options);
  const dir = join(options.cacheRoot ?? tmpdir(), `kiln-synth-${key}`);
  const done = join(dir, '.done');
  const lock = `${dir}.lock`;
  let fresh = false;
  if (!existsSync(done)) {
    if (tryLock(lock)) {
      try {
        rmSync(dir, { recursive: true, force: true });
        await runSynth(dir, args);
        writeFileSync(done, new Date().toISOString());
        fresh = true;
      } finally {
        rmSync(lock, { recursive: true, force: true });
      }
    } else {
      await waitFor(done, lock);
    }
  }
  return { ...locateStack(dir), dir, fresh };
}

function tryLock(lock: string): boolean {
  try {
    mkdirSync(lock);
    return true;
  } catch {
    // A lock older than the longest synth is left over from a killed run.
    if (Date.now() - statSync(lock).mtimeMs > 180_000) {
      rmSync(lock, { recursive: true, force: true });
      return tryLock(lock);
    }
    return false;
  }
}

async function waitFor(done: string, lock: string): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (!existsSync(done)) {
    if (!existsSync(lock)) throw new Error('synth: the worker that held the lock failed; see its output');
    if (Date.now() > deadline) throw new Error('synth: timed out waiting for another worker');
    await new Promise((r) => setTimeout(r, 200));
  }
}

function runSynth(outdir: string, args: string[]): Promise<void> {
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

export function locateStack(dir: string): { stackName: string; templateFile: string; assetsFile: string } {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const stacks = Object.entries(manifest.artifacts).filter(([, a]) => a.type === 'aws:cloudformation:stack');
  if (stacks.length !== 1) throw new Error(`synth: expected one stack, found ${stacks.map(([n]) => n).join(', ')}`);
  const [stackName, artifact] = stacks[0] as [string, { properties?: { templateFile?: string } }];
  return {
    stackName,
    templateFile: join(dir, artifact.properties?.templateFile ?? `${stackName}.template.json`),
    assetsFile: join(dir, `${stackName}.assets.json`),
  };
}

function inputHash(args: string[], options: SynthOptions): string {
  const hash = createHash('sha256').update(JSON.stringify(args));
  const machines = options.context?.['kiln:stateMachinesDir'];
  const files = [...INPUTS, ...(machines ? [machines] : [])].flatMap((p) => listFiles(resolve(PROJECT_ROOT, p)));
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
