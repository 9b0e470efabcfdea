/**
 * Starts and stops moto_server (through moto_launcher.py, which applies Kiln's fixes to moto first). Each
 * test file starts its own in `beforeAll` and stops it in `afterAll`; a vitest worker runs its files one after
 * the other, so there is one server per worker at a time (~300 MB each, two workers on two cores).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AdminUser, BOOTSTRAP_REQUESTS, bootstrapAdmin, resetAuth } from './admin-user.ts';
import { setAdminCredentials } from './clients.ts';
import { freePort } from './ports.ts';

const LAUNCHER = join(dirname(fileURLToPath(import.meta.url)), 'moto_launcher.py');

export interface MotoOptions {
  /** Port moto listens on; default: a free one. */
  readonly port?: number;
  /**
   * Port moto's own AWS calls go to (`MOTO_PORT`: Step Functions tasks, Lambda invokes). The harness sets it to
   * the router's port so invocations come back to the in-process handlers. Default: moto's own port.
   */
  readonly callbackPort?: number;
  /** Apply moto_launcher.py's patches (default true); false shows moto's upstream behaviour. */
  readonly patches?: boolean;
  /** Where moto's request log goes; default: a file in a fresh temp dir. */
  readonly logFile?: string;
  /** Endpoints (the router) whose clients sign as this moto's admin user too. */
  readonly aliases?: readonly string[];
  /** File where the launcher records the credentials it assumes for Step Functions (access key → role). */
  readonly assumedRolesFile?: string;
}

export interface MotoServer {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  readonly logFile: string;
  /** The admin IAM user every setup call signs as; replaced by `reset()`. */
  readonly admin: () => AdminUser;
  /** After a `/moto-api/reset` sent by someone else (the router): bootstrap the admin user again. */
  reauthenticate(): Promise<void>;
  /** Drops every resource (`/moto-api/reset`); the Step Functions config survives it. */
  reset(): Promise<void>;
  /** Kills moto's process group and waits for it to go. Idempotent. */
  stop(): Promise<void>;
}

export async function startMoto(options: MotoOptions = {}): Promise<MotoServer> {
  const port = options.port ?? (await freePort());
  // A log dir of our own is removed on stop; a caller's logFile is kept.
  const ownLogDir = options.logFile ? undefined : mkdtempSync(join(tmpdir(), 'kiln-moto-'));
  const logFile = options.logFile ?? join(ownLogDir as string, 'moto.log');
  const log = openSync(logFile, 'a');
  const child = spawn(process.env.KILN_PYTHON ?? 'python3', [LAUNCHER, '-H', '127.0.0.1', '-p', String(port)], {
    // Own process group, so stop() can kill moto and anything it forks in one signal.
    detached: true,
    // stdin stays a pipe: the launcher exits when it closes (this process died, however it died).
    stdio: ['pipe', log, log],
    env: {
      ...process.env,
      MOTO_PORT: String(options.callbackPort ?? port),
      MOTO_ENABLE_AMI_VALIDATION: 'true',
      KILN_MOTO_PATCHES: options.patches === false ? '0' : '1',
      // IAM is enforced after the requests that make the admin user (admin-user.ts).
      INITIAL_NO_AUTH_ACTION_COUNT: String(BOOTSTRAP_REQUESTS),
      ...(options.assumedRolesFile ? { KILN_ASSUMED_ROLES_FILE: options.assumedRolesFile } : {}),
    },
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('moto_server did not start (is python3 with moto installed?)');
  // Neither moto nor the pipe keeps this process alive; the pipe closing on exit is what stops moto.
  child.unref();
  (child.stdin as (NodeJS.WritableStream & { unref?: () => void }) | null)?.unref?.();
  const killOnExit = () => killGroup(pid, 'SIGKILL');
  process.once('exit', killOnExit);

  const endpoint = `http://127.0.0.1:${port}`;
  const signers = [endpoint, ...(options.aliases ?? [])];
  let admin: AdminUser;
  try {
    await waitUntilServing(endpoint, child, logFile);
    await configure(endpoint);
    admin = await bootstrapAdmin(endpoint);
    setAdminCredentials(signers, admin.credentials);
  } catch (error) {
    killGroup(pid, 'SIGKILL');
    throw error;
  }

  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    port,
    pid,
    logFile,
    admin: () => admin,
    reauthenticate: async () => {
      admin = await rebootstrap(endpoint, signers);
    },
    reset: async () => {
      await motoApi(endpoint, 'reset', {});
      admin = await rebootstrap(endpoint, signers);
    },
    stop: () => {
      stopped ??= stopChild(child, pid).finally(() => {
        setAdminCredentials(signers, undefined);
        process.removeListener('exit', killOnExit);
        closeSync(log);
        if (ownLogDir) rmSync(ownLogDir, { recursive: true, force: true });
      });
      return stopped;
    },
  };
}

/** After `/moto-api/reset` (which deleted the admin user): the allowance again, a new admin user. */
export async function rebootstrap(endpoint: string, signers: readonly string[]): Promise<AdminUser> {
  // The allowance is exactly the bootstrap's requests: one from a process still running against this server (a
  // held long poll of the previous test, an agent) can take a slot, and the bootstrap's last call is then refused.
  // Start again from a clean server until the three calls are ours.
  for (let attempt = 1; ; attempt++) {
    try {
      await resetAuth(endpoint);
      const admin = await bootstrapAdmin(endpoint);
      setAdminCredentials(signers, admin.credentials);
      return admin;
    } catch (error) {
      if (attempt >= 5) throw error;
      await new Promise((r) => setTimeout(r, 200 * attempt));
      await motoApi(endpoint, 'reset', {});
    }
  }
}

/** Turns on moto's Step Functions interpreter (it survives `/moto-api/reset`). */
async function configure(endpoint: string): Promise<void> {
  await motoApi(endpoint, 'config', { stepfunctions: { execute_state_machine: true } });
}

async function motoApi(endpoint: string, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/${path}`, { method: 'POST', body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`moto /moto-api/${path}: HTTP ${response.status} ${await response.text()}`);
}

async function waitUntilServing(endpoint: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}; see ${logFile}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/config`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`moto_server did not answer on ${endpoint} within 30 s; see ${logFile}`);
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

async function stopChild(child: ChildProcess, pid: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin?.end();
  killGroup(pid, 'SIGTERM');
  const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}
