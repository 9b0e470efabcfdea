/**
 * Runs an `AWS-RunShellScript` command for the SSM shim: the `commands` become one bash script, run in a
 * sandbox directory that stands for the instance (HOME and cwd there). This is a simulation of a builder
 * instance, not isolation: the script runs on this machine as the current user. Where the kernel allows a
 * private mount namespace (`unshare -m`, or `unshare -rm` unprivileged), each instance also gets its own /tmp,
 * so a provisioner writing to /tmp does not touch the host's (the sandbox itself must then live outside /tmp:
 * see `sandboxParent`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunRequest {
  /** One directory per instance; created if missing. */
  readonly sandboxDir: string;
  readonly commandId: string;
  readonly commands: readonly string[];
  /** SSM `workingDirectory`: relative paths resolve inside the sandbox's home. */
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

export function runShellScript(request: RunRequest): RunningCommand {
  const home = join(request.sandboxDir, 'home');
  const tmp = join(request.sandboxDir, 'tmp');
  const scripts = join(request.sandboxDir, 'ssm', request.commandId);
  for (const dir of [home, tmp, scripts]) mkdirSync(dir, { recursive: true });
  const cwd = request.workingDirectory?.startsWith('/')
    ? request.workingDirectory
    : join(home, request.workingDirectory ?? '');
  const script = join(scripts, '_script.sh');
  // Like the SSM agent: the commands, in order, as one script.
  writeFileSync(script, `#!/bin/bash\n${request.commands.join('\n')}\n`, { mode: 0o700 });

  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    HOME: home,
    TMPDIR: '/tmp',
    ...request.env,
  };
  // The instance's own /tmp hides the host's, so a sandbox under the host's /tmp could not see itself there.
  const support = request.sandboxDir.startsWith('/tmp/') ? 'none' : privateTmpSupport();
  const [file, args] =
    support === 'none'
      ? ['bash', [script]]
      : [
          'unshare',
          [
            ...(support === 'root' ? ['-m'] : ['-rm']),
            '--propagation',
            'private',
            'bash',
            '-c',
            'mount --bind "$1" /tmp && mkdir -p "$2" && cd "$2" && exec bash "$3"',
            'kiln-instance',
            tmp,
            cwd,
            script,
          ],
        ];
  // Without a namespace the directory is made here; with one, inside it (an absolute /tmp path is private there).
  if (support === 'none') mkdirSync(cwd, { recursive: true });
  const startedAt = new Date();
  const child = spawn(file, args as string[], {
    cwd: support === 'none' ? cwd : home,
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
