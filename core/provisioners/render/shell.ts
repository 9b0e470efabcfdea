/**
 * Renders one `shell` or `file` provisioner into a single bash script for AWS-RunShellScript. The script
 * downloads its files first (presigned GET URLs, curl only: no AWS CLI needed on the image), then runs each
 * script through `execute_command` exactly as Packer would, checking `valid_exit_codes`; it exits with the first
 * invalid exit code so check-command can report it.
 */

import { ProvisionerFailedError } from '../../errors.ts';
import { items, known } from '../../schema/decoded.ts';
import { printable } from '../../schema/env-names.ts';
import type { Decoded } from '../../schema/fields.ts';
import type { FileConfig } from '../file.ts';
import type { ShellConfig } from '../shell.ts';
import {
  assertEnvName,
  assertNoNul,
  codeAt,
  flattenEnvVars,
  heredocDelimiter,
  parseEnvVars,
  shq as sq,
  substituteShell,
  wordAt,
} from './quote.ts';

/** A staged file or directory, with one presigned URL per file (`subPath` '' for a single file). */
export interface StagedUrls {
  readonly path: string;
  readonly directory: boolean;
  readonly entries: readonly { readonly subPath: string; readonly url: string }[];
}

export interface ShellRenderContext {
  readonly buildName: string;
  readonly builderType: string;
  /** Provisioner index in the build; makes remote file names stable and distinct. */
  readonly index: number;
  /** Staged files by template path. */
  readonly files: ReadonlyMap<string, StagedUrls>;
  /** file provisioner `direction = "download"`: presigned PUT URL for the archive/file. */
  readonly uploadUrl?: string;
}

export const DEFAULT_EXECUTE_COMMAND = 'chmod +x {{.Path}}; {{.Vars}} {{.Path}}';
export const DEFAULT_INLINE_SHEBANG = '/bin/sh -e';

const PRELUDE = [
  '#!/bin/bash',
  'set -u',
  'kiln_fetch() {',
  '  mkdir -p -- "$(dirname -- "$2")"',
  '  curl --fail --silent --show-error --location --retry 5 --retry-connrefused -o "$2" "$1"',
  '}',
];

/** `valid_exit_codes` as integers; anything else is refused (the codes are written into the script). */
export function exitCodes(config: { readonly valid_exit_codes?: Decoded<readonly (string | null)[]> }): number[] {
  if (config.valid_exit_codes === undefined) return [0];
  return items(config.valid_exit_codes).map((raw) => {
    if (!/^-?\d{1,10}$/.test(raw.trim())) {
      throw new ProvisionerFailedError(`valid_exit_codes: "${printable(raw)}" is not a whole number`);
    }
    return Number(raw.trim());
  });
}

function validCheck(codes: readonly number[], what: string): string[] {
  return [
    'kiln_rc=$?',
    'case "$kiln_rc" in',
    `  ${codes.map((c) => String(c)).join('|')}) ;;`,
    `  *) echo ${sq(`${what} exited with non-zero exit status:`)} "$kiln_rc" >&2; exit "$kiln_rc" ;;`,
    'esac',
  ];
}

/** A file the plan staged for this build (its presigned URLs); one the plan does not name is a clear failure. */
export function staged(ctx: { readonly files: ReadonlyMap<string, StagedUrls> }, path: string): StagedUrls {
  const found = ctx.files.get(path);
  if (!found) throw new ProvisionerFailedError(`The file "${path}" was not staged for this build`);
  return found;
}

export function basename(path: string): string {
  const parts = path.replace(/\/+$/, '').split('/');
  return parts[parts.length - 1] ?? path;
}

export const DEFAULT_ENV_FILE_EXECUTE_COMMAND = 'chmod +x {{.Path}}; . {{.EnvVarFile}} && {{.Path}}';

/** `environment_vars` ("K=V" list) and `env` (map), plus the two variables Packer always sets. */
export function shellVars(
  config: ShellConfig,
  ctx: Pick<ShellRenderContext, 'builderType' | 'buildName'>,
): [string, string][] {
  const vars = parseEnvVars(items(config.environment_vars));
  const map = known(config.env);
  if (map) {
    for (const [k, v] of Object.entries(map)) {
      vars.push([assertEnvName(k), assertNoNul(String(v), `The environment variable ${k}`)]);
    }
  }
  vars.push(
    ['PACKER_BUILDER_TYPE', assertNoNul(ctx.builderType, 'The builder type')],
    ['PACKER_BUILD_NAME', assertNoNul(ctx.buildName, 'The build name')],
  );
  return vars;
}

const EXECUTE_TOKEN = /\{\{\s*\.(Vars|Path|EnvVarFile)\s*\}\}/;

/**
 * `execute_command` is the author's shell code; the values it names are substituted by a tokenizer that
 * knows the quoting around each `{{.X}}`, never by pattern replacement.
 */
export function renderExecuteCommand(
  execute: string,
  values: { readonly vars: string; readonly path: string; readonly envVarFile: string },
): string {
  return substituteShell(execute, EXECUTE_TOKEN, (m, context) => {
    if (m[1] === 'Vars') return codeAt(values.vars, context, '{{.Vars}}');
    if (m[1] === 'Path') return wordAt(values.path, context, '{{.Path}}');
    return wordAt(values.envVarFile, context, '{{.EnvVarFile}}');
  }).text;
}

function shebangOf(config: ShellConfig): string {
  const shebang = config.inline_shebang || DEFAULT_INLINE_SHEBANG;
  if (/[\0\r\n]/.test(shebang)) {
    throw new ProvisionerFailedError(`inline_shebang "${printable(shebang)}" must be one line without NUL bytes`);
  }
  return shebang;
}

export function renderShell(config: ShellConfig, ctx: ShellRenderContext): string {
  const codes = exitCodes(config);
  const folder = assertNoNul(config.remote_folder || '/tmp', 'remote_folder');
  const vars = shellVars(config, ctx);
  const useEnvFile = known(config.use_env_var_file) ?? false;
  const envFile = `${folder}/varfile_${ctx.index}.sh`;
  const flat = flattenEnvVars(vars, config.env_var_format || undefined);
  const execute = config.execute_command || (useEnvFile ? DEFAULT_ENV_FILE_EXECUTE_COMMAND : DEFAULT_EXECUTE_COMMAND);
  const cleanup = !(known(config.skip_clean) ?? false);
  const lines = [...PRELUDE, `mkdir -p -- ${sq(folder)}`];
  if (useEnvFile) {
    const body = vars.map(([k, v]) => `export ${k}=${sq(v)}`).join('\n');
    const delimiter = heredocDelimiter(body);
    lines.push(`cat > ${sq(envFile)} <<'${delimiter}'`, body, delimiter);
  }
  const run = (remotePath: string, what: string) => {
    // Packer chmods every uploaded script 0755 before running it, whatever execute_command says.
    lines.push(`chmod 0755 -- ${sq(remotePath)}`);
    lines.push(renderExecuteCommand(execute, { vars: useEnvFile ? '' : flat, path: remotePath, envVarFile: envFile }));
    lines.push(...validCheck(codes, what));
    // Packer removes each uploaded script after it ran, unless skip_clean.
    if (cleanup) lines.push(`rm -f -- ${sq(remotePath)}`);
  };
  const remotePath = config.remote_path || undefined;
  const remoteFile = config.remote_file || undefined;
  if (remotePath) assertNoNul(remotePath, 'remote_path');
  if (remoteFile) assertNoNul(remoteFile, 'remote_file');
  const remoteFor = (n: number) =>
    n === 0 && remotePath
      ? remotePath
      : n === 0 && remoteFile
        ? `${folder}/${remoteFile}`
        : `${folder}/script_${ctx.index}_${n}.sh`;

  const inline = items(config.inline);
  if (inline.length > 0) {
    const body = [`#!${shebangOf(config)}`, ...inline].join('\n');
    const delimiter = heredocDelimiter(body);
    const remote = remoteFor(0);
    lines.push(`cat > ${sq(remote)} <<'${delimiter}'`, body, delimiter);
    run(remote, 'Inline script');
  } else {
    const scripts = [...(config.script ? [config.script] : []), ...items(config.scripts)];
    if (scripts.length === 0)
      throw new ProvisionerFailedError('The shell provisioner has no inline, script or scripts');
    // Download everything first: presigned URLs expire, later scripts may run long after the command starts.
    const remotes = scripts.map((s, n) => {
      const url = staged(ctx, s).entries[0]?.url;
      if (!url) throw new ProvisionerFailedError(`The script "${s}" was not staged for this build`);
      const remote = remoteFor(n);
      lines.push(`kiln_fetch ${sq(url)} ${sq(remote)} || exit 1`);
      return { script: s, remote };
    });
    for (const { script, remote } of remotes) run(remote, `Script ${basename(script)}`);
  }
  if (useEnvFile && cleanup) lines.push(`rm -f -- ${sq(envFile)}`);
  return `${lines.join('\n')}\n`;
}

/** file provisioner: upload (default) or download (instance → S3 via presigned PUT). */
export function renderFile(config: FileConfig, ctx: ShellRenderContext): string {
  const destination = config.destination || undefined;
  const sources = [...(config.source ? [config.source] : []), ...items(config.sources)];
  if (!destination || sources.length === 0) {
    throw new ProvisionerFailedError('The file provisioner needs source (or sources) and destination');
  }
  assertNoNul(destination, 'destination');
  for (const source of sources) assertNoNul(source, 'The file source');
  const lines = [...PRELUDE];
  if (config.direction === 'download') {
    if (!ctx.uploadUrl) throw new ProvisionerFailedError('No upload URL for the file download');
    const source = sources[0] as string;
    // A directory travels as a tar.gz; a file as itself.
    lines.push(
      `if [ -d ${sq(source)} ]; then`,
      `  tar -C ${sq(source)} -czf /tmp/kiln-download.tgz . || exit 1`,
      `  curl --fail --silent --show-error -X PUT --upload-file /tmp/kiln-download.tgz ${sq(ctx.uploadUrl)} || exit 1`,
      'else',
      `  curl --fail --silent --show-error -X PUT --upload-file ${sq(source)} ${sq(ctx.uploadUrl)} || exit 1`,
      'fi',
    );
    return `${lines.join('\n')}\n`;
  }
  for (const source of sources) {
    const item = staged(ctx, source);
    for (const entry of item.entries) {
      let target: string;
      if (!item.directory) {
        target =
          destination.endsWith('/') || sources.length > 1
            ? `${destination.replace(/\/+$/, '')}/${basename(source)}`
            : destination;
      } else {
        // Packer: "dir/" copies the contents, "dir" copies the directory itself into destination.
        const base = source.endsWith('/') ? '' : `${basename(source)}/`;
        target = `${destination.replace(/\/+$/, '')}/${base}${entry.subPath}`;
      }
      lines.push(`kiln_fetch ${sq(entry.url)} ${sq(target)} || exit 1`);
    }
  }
  return `${lines.join('\n')}\n`;
}
