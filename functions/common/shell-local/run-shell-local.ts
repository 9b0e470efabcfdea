/**
 * shell-local, run by the isolated ShellLocal function (functions/registry.ts: no AWS permissions at all, only
 * its own log group), never by a pipeline function: a script there could read the pipeline role's credentials
 * from the parent process (`/proc/$PPID/environ`). Here, in a scratch directory under /tmp, with a hard time
 * limit and an output cap, an environment without AWS_* variables, and an intermediate `sh` as the script's
 * parent so `/proc/$PPID/environ` is that clean environment too. Whatever the script finds further up the
 * process tree is the ShellLocal role's, which grants nothing.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as z from 'zod/mini';
import { parseEnvVars } from '../../../core/provisioners/render/quote.ts';
import {
  SHELL_LOCAL_MAX_OUTPUT_BYTES,
  SHELL_LOCAL_MAX_SECONDS,
  SHELL_LOCAL_RETURNED_CHARS,
  type ShellLocalRequest,
  type ShellLocalResult,
  shellLocalRequestSchema,
} from '../../lib/shell-local-contract.ts';

/** The script's parent: a shell that runs it as a child (two commands, so no exec) with the same clean env. */
const WRAPPER = '"$@"; kiln_rc=$?; exit $kiln_rc';

function run(file: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs: number) {
  return new Promise<{ exitCode: number; output: string; timedOut: boolean }>((resolve) => {
    execFile(
      '/bin/sh',
      ['-c', WRAPPER, 'kiln-shell-local', file, ...args],
      { env, cwd, timeout: timeoutMs, maxBuffer: SHELL_LOCAL_MAX_OUTPUT_BYTES, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
        const exitCode = e ? (typeof e.code === 'number' ? e.code : 1) : 0;
        resolve({ exitCode, output: `${stdout}${stderr}`, timedOut: !!e?.killed });
      },
    );
  });
}

/** The environment the script sees: only what the template set, plus Packer's two variables. Never AWS_*. */
export function scriptEnvironment(req: z.output<typeof shellLocalRequestSchema>, dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: dir, TMPDIR: dir };
  for (const [k, v] of parseEnvVars(req.environmentVars)) {
    // A template may not hand the script credentials-shaped variables either (they would only confuse tools).
    if (!/^AWS_/i.test(k)) env[k] = v;
  }
  env.PACKER_BUILD_NAME = req.buildName;
  env.PACKER_BUILDER_TYPE = req.builderType;
  return env;
}

export async function runShellLocal(input: ShellLocalRequest): Promise<ShellLocalResult> {
  const req = shellLocalRequestSchema.parse(input);
  const limit = Math.min(req.timeoutSeconds ?? SHELL_LOCAL_MAX_SECONDS, SHELL_LOCAL_MAX_SECONDS);
  const bodies = req.command ? [req.command] : req.inline.length > 0 ? [req.inline.join('\n')] : req.scriptBodies;
  const base = { limitSeconds: limit, timedOut: false };
  if (bodies.length === 0) {
    return {
      ...base,
      exitCode: 1,
      ok: false,
      outputTail: '',
      error: 'shell-local has no command, inline, script or scripts',
    };
  }
  // Names and values are checked (parseEnvVars throws) before anything is created, so a refusal leaves nothing.
  parseEnvVars(req.environmentVars);
  const dir = await mkdtemp(join(tmpdir(), 'kiln-local-'));
  const env = scriptEnvironment(req, dir);
  let output = '';
  try {
    for (const [n, body] of bodies.entries()) {
      const path = join(dir, `script-${n}.sh`);
      await writeFile(path, body, { mode: 0o700 });
      const [shell = '/bin/sh', ...flags] = (req.inlineShebang ?? '/bin/sh -e').split(/\s+/);
      const result = await run(shell, [...flags, path], env, dir, limit * 1000);
      output = `${output}${result.output}`.slice(-SHELL_LOCAL_MAX_OUTPUT_BYTES);
      if (result.timedOut) {
        return {
          ...base,
          timedOut: true,
          exitCode: result.exitCode,
          ok: false,
          outputTail: output.slice(-SHELL_LOCAL_RETURNED_CHARS),
        };
      }
      if (!req.validExitCodes.includes(result.exitCode)) {
        return { ...base, exitCode: result.exitCode, ok: false, outputTail: output.slice(-SHELL_LOCAL_RETURNED_CHARS) };
      }
    }
    return { ...base, exitCode: 0, ok: true, outputTail: output.slice(-SHELL_LOCAL_RETURNED_CHARS) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
