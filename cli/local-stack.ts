/**
 * `--local`: run a `kiln` command against the local stack that `npm start -- --keep` leaves running. npm start
 * writes what the CLI needs into a state file (the emulator's endpoint, its admin credentials, the stack's
 * outputs); `kiln … --local` reads it and sets the same variables a user sets for AWS (AWS_ENDPOINT_URL, the
 * credentials, KILN_REGISTRY_TABLE, ...), so a command takes the one code path it takes against AWS.
 *
 * The file holds the emulator's throwaway credentials only (moto, on 127.0.0.1); it is written 0600 and removed
 * when the local stack stops.
 */
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as z from 'zod/mini';
import { cliEnvFromOutputs } from '../aws/stack-outputs.ts';

/** Where the state file is: this variable, else `.kiln/local-stack.json` in the current directory. */
export const LOCAL_STACK_FILE_ENV = 'KILN_LOCAL_STACK';
export const DEFAULT_LOCAL_STACK_FILE = '.kiln/local-stack.json';
export const LOCAL_FLAG = '--local';

const stateSchema = z.object({
  version: z.literal(1),
  /** The process keeping the stack up (npm start): a dead one means a stale file. */
  pid: z.number(),
  endpoint: z.string(),
  region: z.string(),
  credentials: z.object({
    accessKeyId: z.string(),
    secretAccessKey: z.string(),
    sessionToken: z.optional(z.string()),
  }),
  outputs: z.record(z.string(), z.string()),
  startedAt: z.string(),
});
export type LocalStackState = z.infer<typeof stateSchema>;

export function localStackFile(env: Readonly<Record<string, string | undefined>>, cwd: string): string {
  return resolve(cwd, env[LOCAL_STACK_FILE_ENV] || DEFAULT_LOCAL_STACK_FILE);
}

export function writeLocalStack(file: string, state: LocalStackState): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // an existing file keeps its mode on write
}

export function removeLocalStack(file: string): void {
  rmSync(file, { force: true });
}

export class LocalStackError extends Error {
  override readonly name = 'LocalStackError';
}

const START_HINT = 'start one with `npm start -- --keep` (it stays up until Ctrl-C)';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The state in `file`, or a LocalStackError saying what to do when there is none or it is stale. */
export function readLocalStack(file: string): LocalStackState {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new LocalStackError(`--local: no local stack (${file} does not exist): ${START_HINT}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new LocalStackError(`--local: ${file} is not JSON: remove it and ${START_HINT}`);
  }
  const result = stateSchema.safeParse(parsed);
  if (!result.success) throw new LocalStackError(`--local: ${file} is not a local stack state file: ${START_HINT}`);
  if (!alive(result.data.pid)) {
    throw new LocalStackError(
      `--local: the local stack in ${file} has stopped (process ${result.data.pid} is gone): ${START_HINT}`,
    );
  }
  return result.data;
}

/** The variables a command sees against the local stack: the AWS SDK's and the stack outputs' (aws/stack-outputs.ts). */
export function localStackEnv(state: LocalStackState): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: state.endpoint,
    AWS_REGION: state.region,
    AWS_DEFAULT_REGION: state.region,
    AWS_ACCESS_KEY_ID: state.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: state.credentials.secretAccessKey,
    ...(state.credentials.sessionToken ? { AWS_SESSION_TOKEN: state.credentials.sessionToken } : {}),
    ...cliEnvFromOutputs(state.outputs),
  };
}

/**
 * Splits `--local` off the arguments (it may come anywhere, like a global flag) and returns the variables it
 * sets, or none when absent. Throws LocalStackError when it is given and no live local stack is recorded.
 */
export function takeLocalFlag(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): { argv: string[]; env?: Record<string, string> } {
  const at = argv.indexOf(LOCAL_FLAG);
  // After `--`, it belongs to whatever follows (a template path named --local, say).
  const end = argv.indexOf('--');
  if (at === -1 || (end !== -1 && at > end)) return { argv: [...argv] };
  const rest = argv.filter((_, i) => i !== at);
  return { argv: rest, env: localStackEnv(readLocalStack(localStackFile(env, cwd))) };
}
