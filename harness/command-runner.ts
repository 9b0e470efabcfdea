/**
 * Runs an `AWS-RunShellScript` command for the SSM shim the way the SSM agent does on Linux: the `commands`
 * joined into one `_script.sh` under the command's orchestration directory, which is also the working
 * directory, run with the agent's environment (the agent's PATH, no HOME, no USER, no shell profile) plus
 * what the instance profile gives. A script that relies on `$HOME` under `set -u` fails here as on AWS.
 * This is a simulation of a builder instance, not isolation: the script runs on this machine. Where the kernel
 * allows a private mount namespace (`unshare -m`, or `unshare -rm` unprivileged), each instance also gets its
 * own /tmp, /srv and /opt, so a provisioner writing there does not touch the host's (the sandbox itself must
 * then live outside /tmp: see `sandboxParent`). As root, that namespace is the instance's, held open by a small
 * process and entered by each of its commands (`nsenter`), as every command of a real instance shares its one
 * mount table: a container engine's mounts made by one command (podman's overlay of a running container) are
 * there for the next, as on a docker host.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PATH of the SSM agent's service (systemd's default on Amazon Linux and Ubuntu). */
export const AGENT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Directories each instance gets privately (bind-mounted from its sandbox) where namespaces allow. */
export const PRIVATE_DIRS = ['/tmp', '/srv', '/opt'] as const;

export interface RunRequest {
  /** One directory per instance; created if missing. */
  readonly sandboxDir: string;
  readonly commandId: string;
  readonly commands: readonly string[];
  /** SSM `workingDirectory`; default: the command's orchestration directory, as the agent does. */
  readonly workingDirectory?: string;
  readonly timeoutSeconds: number;
  /** Variables the instance would have (AWS endpoint and credentials of its instance profile, region). */
  readonly env: Readonly<Record<string, string>>;
}

export interface RunOutcome {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly cancelled: boolean;
  readonly startedAt: Date;
  readonly endedAt: Date;
}

export interface RunningCommand {
  readonly done: Promise<RunOutcome>;
  cancel(): void;
}

let namespaceSupport: 'root' | 'user' | 'none' | undefined;

/** Whether this machine can give each instance a private /tmp (probed once). */
export function privateTmpSupport(): 'root' | 'user' | 'none' {
  if (namespaceSupport) return namespaceSupport;
  const probe = (args: string[]) =>
    spawnSync('unshare', [...args, '--propagation', 'private', 'sh', '-c', 'mount --bind / /mnt'], {
      stdio: 'ignore',
      timeout: 5_000,
    }).status === 0;
  namespaceSupport = probe(['-m']) ? 'root' : probe(['-rm']) ? 'user' : 'none';
  return namespaceSupport;
}

/** The namespace holders by sandbox (one per instance), killed by `stopInstanceNamespaces` or when we exit. */
const holders = new Map<string, ChildProcess>();
let exitHook = false;

/** The pid of the process holding the instance's mount namespace (its private dirs bound), started once. */
function instanceNamespace(sandboxDir: string, mounts: readonly { target: string; source: string }[]): number {
  const held = holders.get(sandboxDir);
  if (held?.pid !== undefined && held.exitCode === null) return held.pid;
  const binds = mounts.map((m, n) => `mount --bind "\${${n + 1}}" ${m.target}`).join(' && ');
  const ready = join(sandboxDir, '.namespace-ready');
  rmSync(ready, { force: true });
  const holder = spawn(
    'unshare',
    [
      '-m',
      '--propagation',
      'private',
      'sh',
      '-c',
      // Signals readiness through a file outside the private dirs, then waits to be killed.
      `${binds} && : > "$0" && exec sleep 2147483647`,
      ready,
      ...mounts.map((m) => m.source),
    ],
    { stdio: 'ignore' },
  );
  if (holder.pid === undefined) throw new Error('could not start the instance namespace (unshare)');
  holders.set(sandboxDir, holder);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => stopInstanceNamespaces());
  }
  const deadline = Date.now() + 10_000;
  while (!existsSync(ready)) {
    if (holder.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the instance namespace for ${sandboxDir} did not come up`);
    }
    spawnSync('sleep', ['0.02']);
  }
  return holder.pid;
}

/** Ends every instance namespace this process started (the harness's stop). */
export function stopInstanceNamespaces(): void {
  for (const [dir, holder] of holders) {
    holder.kill('SIGKILL');
    holders.delete(dir);
  }
}

export function runShellScript(request: RunRequest): RunningCommand {
  const mounts = PRIVATE_DIRS.map((dir) => ({ target: dir, source: join(request.sandboxDir, 'fs', dir.slice(1)) }));
  // The agent's orchestration directory for this command and plugin; `_script.sh` and the default cwd.
  const orchestration = join(
    request.sandboxDir,
    'orchestration',
    request.commandId,
    'awsrunShellScript',
    '0.awsrunShellScript',
  );
  for (const dir of [...mounts.map((m) => m.source), orchestration]) mkdirSync(dir, { recursive: true });
  const cwd = request.workingDirectory || orchestration;
  const script = join(orchestration, '_script.sh');
  // Like the SSM agent: the commands, in order, as one file (no shebang added; Kiln's scripts bring their own).
  writeFileSync(script, `${request.commands.join('\n')}\n`, { mode: 0o700 });

  // The agent's own environment: no HOME, USER or LANG (systemd sets none for it), its PATH.
  const env = { PATH: AGENT_PATH, ...request.env };
  // The instance's own /tmp hides the host's, so a sandbox under the host's /tmp could not see itself there.
  const support = request.sandboxDir.startsWith('/tmp/') ? 'none' : privateTmpSupport();
  const binds = mounts.map((_, n) => `mount --bind "\${${n + 3}}" ${mounts[n]?.target}`).join(' && ');
  const [file, args] =
    support === 'none'
      ? ['sh', ['-c', script]]
      : support === 'root'
        ? [
            'nsenter',
            [
              `--mount=/proc/${instanceNamespace(request.sandboxDir, mounts)}/ns/mnt`,
              'sh',
              '-c',
              'mkdir -p "$1" && cd "$1" && exec sh -c "$2"',
              'kiln-instance',
              cwd,
              script,
            ],
          ]
        : [
            'unshare',
            [
              // Unprivileged: a user and mount namespace per command (nothing can be entered later).
              '-rm',
              '--propagation',
              'private',
              'sh',
              '-c',
              // The agent runs `sh -c <script>`: a script starting with #! runs under its interpreter.
              `${binds} && mkdir -p "$1" && cd "$1" && exec sh -c "$2"`,
              'kiln-instance',
              cwd,
              script,
              ...mounts.map((m) => m.source),
            ],
          ];
  // Without a namespace the directory is made here; with one, inside it (an absolute /tmp path is private there).
  if (support === 'none') mkdirSync(cwd, { recursive: true });
  const startedAt = new Date();
  const child = spawn(file, args as string[], {
    cwd: support === 'none' ? cwd : orchestration,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let timedOut = false;
  let cancelled = false;
  const killGroup = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already exited.
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, request.timeoutSeconds * 1000);
  const done = new Promise<RunOutcome>((resolve) => {
    const finish = (code: number | null, error?: Error) => {
      clearTimeout(timer);
      if (error) stderr += `${error.message}\n`;
      resolve({
        exitCode: code ?? -1,
        stdout,
        stderr,
        timedOut,
        cancelled,
        startedAt,
        endedAt: new Date(),
      });
    };
    child.once('error', (error) => finish(127, error));
    child.once('close', (code) => finish(code));
  });
  return {
    done,
    cancel: () => {
      cancelled = true;
      killGroup();
    },
  };
}

/** Where instance sandboxes go: /var/tmp when each instance can have a private /tmp (which hides /tmp). */
export function sandboxParent(): string {
  if (privateTmpSupport() === 'none') return tmpdir();
  try {
    accessSync('/var/tmp', constants.W_OK);
    return '/var/tmp';
  } catch {
    return tmpdir();
  }
}
