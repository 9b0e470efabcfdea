/**
 * shell-local runs in the Lambda itself (there is no "local machine" in a serverless build): in a scratch
 * directory under /tmp, with a hard time limit and an output cap, and WITHOUT the function's AWS credentials
 * in its environment (user code must not borrow the pipeline's role).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProvisionerFailedError } from '../../core/errors.ts';
import { redactText as redact } from '../../core/plan/sensitive.ts';
import { type Config, str, strList } from '../lib/config.ts';
import { parseEnvVars } from './shell-quote.ts';

export const SHELL_LOCAL_MAX_SECONDS = 300;
export const SHELL_LOCAL_MAX_OUTPUT_BYTES = 256 * 1024;

export interface ShellLocalOptions {
  readonly buildName: string;
  readonly builderType: string;
  /** Script bodies of `script`/`scripts`, already read from the staged files. */
  readonly scriptBodies: readonly string[];
  readonly timeoutSeconds?: number;
  readonly secrets: readonly string[];
}

export interface ShellLocalResult {
  readonly exitCode: number;
  readonly output: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs: number) {
  return new Promise<ShellLocalResult & { timedOut: boolean }>((resolve) => {
    execFile(
      file,
      args,
      { env, cwd, timeout: timeoutMs, maxBuffer: SHELL_LOCAL_MAX_OUTPUT_BYTES, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
        const exitCode = e ? (typeof e.code === 'number' ? e.code : 1) : 0;
        resolve({ exitCode, output: `${stdout}${stderr}`, timedOut: !!e?.killed });
      },
    );
  });
}

export async function runShellLocal(config: Config, opts: ShellLocalOptions): Promise<ShellLocalResult> {
  const limit = Math.min(opts.timeoutSeconds ?? SHELL_LOCAL_MAX_SECONDS, SHELL_LOCAL_MAX_SECONDS);
  const dir = await mkdtemp(join(tmpdir(), 'kiln-local-'));
  const env: NodeJS.ProcessEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: dir, TMPDIR: dir };
  for (const [k, v] of parseEnvVars(strList(config, 'environment_vars'))) env[k] = v;
  env.PACKER_BUILD_NAME = opts.buildName;
  env.PACKER_BUILDER_TYPE = opts.builderType;
  try {
    const bodies: string[] = [];
    const command = str(config, 'command');
    const inline = strList(config, 'inline');
    if (command) bodies.push(command);
    else if (inline.length > 0) bodies.push(inline.join('\n'));
    else bodies.push(...opts.scriptBodies);
    if (bodies.length === 0) throw new ProvisionerFailedError('shell-local has no command, inline, script or scripts');
    const codes = config.valid_exit_codes !== undefined ? strList(config, 'valid_exit_codes').map(Number) : [0];
    let output = '';
    for (const [n, body] of bodies.entries()) {
      const path = join(dir, `script-${n}.sh`);
      await writeFile(path, body, { mode: 0o700 });
      const shebang = str(config, 'inline_shebang') ?? '/bin/sh -e';
      const [shell = '/bin/sh', ...flags] = shebang.split(/\s+/);
      const result = await run(shell, [...flags, path], env, dir, limit * 1000);
      output += result.output;
      if (result.timedOut) {
        throw new ProvisionerFailedError(`shell-local did not finish within ${limit}s (the limit inside a Lambda)`);
      }
      if (!codes.includes(result.exitCode)) {
        const tail = redact(output, opts.secrets).split('\n').slice(-20).join('\n');
        throw new ProvisionerFailedError(`shell-local exited with non-zero exit status: ${result.exitCode}\n${tail}`);
      }
    }
    return { exitCode: 0, output: redact(output, opts.secrets) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
