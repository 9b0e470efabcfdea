/**
 * A real OCI registry (Debian's `docker-registry`, distribution 2.8) on 127.0.0.1, with a configuration of its own
 * (no auth, relative URLs, storage in the harness's folder), seeded with the python:3.9-slim stand-in. It is the
 * `docker.io` mirror the builder hosts pull from, and the storage behind the local ECR front (ecr-front.ts).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, cpSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../ports.ts';

export interface LocalRegistry {
  /** `127.0.0.1:<port>` (plain HTTP). */
  readonly address: string;
  readonly pid: number;
  readonly logFile: string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /** Folder for the configuration, log and storage (created). */
  readonly dir: string;
  /** docker-registry storage to start from (the stand-in's `registry/` folder), or none. */
  readonly seed?: string;
}

/**
 * Blobs are content-addressed and never rewritten, so they are hard-linked from the seed (milliseconds, no extra
 * disk); the small `repositories/` tree (tag links the registry overwrites in place) is copied.
 */
function seedStorage(seed: string, storage: string): void {
  const from = join(seed, 'docker', 'registry', 'v2');
  const to = join(storage, 'docker', 'registry', 'v2');
  mkdirSync(to, { recursive: true });
  const linked = spawnSync('cp', ['-al', join(from, 'blobs'), join(to, 'blobs')], { stdio: 'pipe' });
  if (linked.status !== 0) cpSync(join(from, 'blobs'), join(to, 'blobs'), { recursive: true });
  cpSync(join(from, 'repositories'), join(to, 'repositories'), { recursive: true });
}

export async function startRegistry(options: RegistryOptions): Promise<LocalRegistry> {
  const storage = join(options.dir, 'storage');
  mkdirSync(storage, { recursive: true });
  if (options.seed && readdirSync(storage).length === 0) seedStorage(options.seed, storage);
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const config = join(options.dir, 'registry.yml');
  // No auth section: the Debian default config has htpasswd auth on :5000; this one is open, on loopback only.
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${JSON.stringify(storage)}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${address}`,
      // Upload locations relative to the request, so they stay valid through the ECR front's port.
      '  relativeurls: true',
      '',
    ].join('\n'),
  );
  const logFile = join(options.dir, 'registry.log');
  const log = openSync(logFile, 'a');
  const child = spawn('docker-registry', ['serve', config], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error('docker-registry did not start (apt-get install docker-registry)');
  child.unref();
  const kill = () => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  };
  process.once('exit', kill);
  try {
    await waitUntilServing(address, child, logFile);
  } catch (error) {
    kill();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    address,
    pid,
    logFile,
    stop: () => {
      stopped ??= (async () => {
        process.removeListener('exit', kill);
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        try {
          process.kill(-pid, 'SIGTERM');
        } catch {
          return;
        }
        // A referenced timer: it also keeps this process alive until the registry is gone.
        const timer = setTimeout(kill, 3_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopped;
    },
  };
}

async function waitUntilServing(address: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`docker-registry exited (${child.exitCode}): ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    }
    try {
      const response = await fetch(`http://${address}/v2/`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(
    `docker-registry did not answer on ${address} within 15 s: ${readFileSync(logFile, 'utf8').slice(-2000)}`,
  );
}
