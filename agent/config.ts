/**
 * The agent's config file: the gateway URL and the agent's credential (`ag-….<secret>`), so it is created 0600
 * in a 0700 folder and refused when group or others can read it (the chmod to run is in the message), as ssh
 * does with a private key. Default ~/.config/kiln-agent/config.json; `--config` or KILN_AGENT_CONFIG override.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import * as z from 'zod/mini';
import { labelsSchema } from '../aws/agent-gateway-contract.ts';
import { AgentConfigError } from './errors.ts';

export const CONFIG_ENV = 'KILN_AGENT_CONFIG';

export const agentConfigSchema = z.object({
  url: z.url(),
  agentId: z.string(),
  credential: z.string(),
  labels: labelsSchema,
  name: z.string(),
  /** Each job runs in `<workDir>/<jobId>`, removed afterwards. */
  workDir: z.string(),
  /** Run templates with `shell-local` steps (they execute on this host): off unless the operator says so. */
  allowLocalExec: z.optional(z.boolean()),
  /** Upload artifact files through presigned URLs after a build (`--upload-artifacts`): off unless asked. */
  uploadArtifacts: z.optional(z.boolean()),
});
export type AgentConfig = z.infer<typeof agentConfigSchema>;

export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? env[CONFIG_ENV] ?? join(homedir(), '.config', 'kiln-agent', 'config.json');
}

export function writeConfig(path: string, config: AgentConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // Written beside and renamed: the file is 0600 from its first byte, and a crash leaves the old one whole.
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600, flag: 'w' });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}

export function readConfig(path: string): AgentConfig {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    throw new AgentConfigError(`no agent config at ${path}: run \`kiln-agent register --url ... --token ...\` first`);
  }
  if ((mode & 0o077) !== 0) {
    throw new AgentConfigError(
      `${path} is readable by other users (mode ${(mode & 0o777).toString(8)}) and holds the agent's secret: run \`chmod 600 ${path}\``,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new AgentConfigError(`${path} is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const parsed = z.safeParse(agentConfigSchema, json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ');
    throw new AgentConfigError(`${path} is not a kiln-agent config (${issues}): register again`);
  }
  return parsed.data;
}
