/**
 * How packer is started for a job: its arguments, its variables and its environment. Pure pieces (unit tested)
 * plus the writing of the job's variable files.
 *
 * The environment is built from scratch, never copied from the agent's: a template's `env()` (HCL) or
 * `{{env}}` (JSON) can read any variable packer sees and print or upload it, so the agent's own secrets (its
 * config path, cloud credentials of the host, tokens in the service's environment) must not be there. Packer
 * gets a PATH, a HOME, TMPDIR and cache folders inside the job folder (removed with it), checkpoint off, and
 * the job's PKR_VAR_* values. Variables never go on the command line: `ps` shows it to every local user.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { AgentJobPayload, AgentJobVariables } from '../aws/agent-gateway-contract.ts';

export interface JobDirs {
  readonly root: string;
  readonly template: string;
  readonly vars: string;
  readonly home: string;
  readonly tmp: string;
  readonly cache: string;
}

export const jobDirs = (root: string): JobDirs => ({
  root,
  template: join(root, 'template'),
  vars: join(root, 'vars'),
  home: join(root, 'home'),
  tmp: join(root, 'tmp'),
  cache: join(root, 'cache'),
});

/** Variables of the agent's environment passed on: not secrets, needed to find packer's plugins (packer ≥ 1.7). */
const PASSED_THROUGH = ['PACKER_PLUGIN_PATH'] as const;

export function packerEnv(
  dirs: JobDirs,
  path: string,
  pkrVars: Readonly<Record<string, string>>,
  agentEnv: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: path,
    HOME: dirs.home,
    TMPDIR: dirs.tmp,
    PACKER_CACHE_DIR: dirs.cache,
    PACKER_CONFIG_DIR: join(dirs.home, '.packer.d'),
    CHECKPOINT_DISABLE: '1',
  };
  for (const name of PASSED_THROUGH) {
    const value = agentEnv[name];
    if (value !== undefined) env[name] = value;
  }
  for (const [name, value] of Object.entries(pkrVars)) env[`PKR_VAR_${name}`] = value;
  return env;
}

export function packerArgs(payload: AgentJobPayload, varFiles: readonly string[]): string[] {
  return [
    'build',
    '-machine-readable',
    '-color=false',
    `-only=${payload.only}`,
    ...varFiles.map((f) => `-var-file=${f}`),
    payload.templatePath,
  ];
}

export interface PreparedVariables {
  /** Var files in packer's order (the request's files, then the JSON template's `-var` pairs). */
  readonly varFiles: string[];
  /** HCL templates: the `-var` pairs, as PKR_VAR_<name>. */
  readonly pkrVars: Record<string, string>;
}

/**
 * Writes the job's var files into `dirs.vars` (0600). JSON templates get the `-var` pairs as one more var file
 * (`{ name: value }`, strings as JSON templates' variables are). HCL templates get them as PKR_VAR_* so packer
 * parses each per its declared type, as it does `-var`; packer ranks PKR_VAR_ below var files, so a variable set
 * both ways takes the file's value (a `-var` given on the command line would win), a difference the pipeline's
 * request shape makes rare (the CLI's `--var` and `--var-file` naming one variable).
 */
export async function writeVariables(
  dirs: JobDirs,
  format: AgentJobPayload['format'],
  doc: AgentJobVariables | undefined,
): Promise<PreparedVariables> {
  await mkdir(dirs.vars, { recursive: true, mode: 0o700 });
  if (!doc) return { varFiles: [], pkrVars: {} };
  const varFiles: string[] = [];
  let n = 0;
  for (const file of doc.varFiles) {
    // Numbered to keep order and uniqueness; the name's ending stays (packer picks .json or .pkrvars.hcl by it).
    const target = join(dirs.vars, `${String(n++).padStart(2, '0')}-${basename(file.name)}`);
    await writeFile(target, file.content, { mode: 0o600, flag: 'wx' });
    varFiles.push(target);
  }
  if (format === 'json') {
    if (doc.vars.length > 0) {
      const target = join(dirs.vars, `${String(n++).padStart(2, '0')}-vars.json`);
      await writeFile(target, JSON.stringify(Object.fromEntries(doc.vars)), { mode: 0o600, flag: 'wx' });
      varFiles.push(target);
    }
    return { varFiles, pkrVars: {} };
  }
  return { varFiles, pkrVars: Object.fromEntries(doc.vars) };
}
