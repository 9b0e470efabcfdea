/**
 * Renders `powershell` and `windows-restart` provisioners for AWS-RunPowerShellScript.
 */
import { ProvisionerFailedError } from '../../core/errors.ts';
import { type Config, str, strList } from '../lib/config.ts';
import type { ShellRenderContext } from './render-shell.ts';
import { parseEnvVars, psq } from './shell-quote.ts';

function exitCheck(codes: readonly number[], what: string): string[] {
  return [
    '$kilnRc = if ($null -eq $LASTEXITCODE) { 0 } else { $LASTEXITCODE }',
    `if (@(${codes.join(', ')}) -notcontains $kilnRc) { Write-Error (${psq(`${what} exited with non-zero exit status: `)} + $kilnRc); exit $kilnRc }`,
  ];
}

export function renderPowerShell(config: Config, ctx: ShellRenderContext): string[] {
  const codes = config.valid_exit_codes !== undefined ? strList(config, 'valid_exit_codes').map(Number) : [0];
  const lines: string[] = ["$ErrorActionPreference = 'Stop'", "$ProgressPreference = 'SilentlyContinue'"];
  const vars = parseEnvVars(strList(config, 'environment_vars'));
  vars.push(['PACKER_BUILDER_TYPE', ctx.builderType], ['PACKER_BUILD_NAME', ctx.buildName]);
  for (const [k, v] of vars) lines.push(`$env:${k.replace(/[^A-Za-z0-9_]/g, '_')} = ${psq(v)}`);
  const inline = strList(config, 'inline');
  if (inline.length > 0) {
    lines.push(...inline, ...exitCheck(codes, 'Inline script'));
    return lines;
  }
  const scripts = [...(str(config, 'script') ? [str(config, 'script') as string] : []), ...strList(config, 'scripts')];
  if (scripts.length === 0)
    throw new ProvisionerFailedError('The powershell provisioner has no inline, script or scripts');
  const folder = str(config, 'remote_folder') ?? 'C:/Windows/Temp';
  scripts.forEach((script, n) => {
    const url = ctx.files.get(script)?.entries[0]?.url;
    if (!url) throw new ProvisionerFailedError(`The script "${script}" was not staged for this build`);
    const remote = `${folder}/script-${ctx.index}-${n}.ps1`;
    lines.push(`Invoke-WebRequest -UseBasicParsing -Uri ${psq(url)} -OutFile ${psq(remote)}`);
  });
  scripts.forEach((script, n) => {
    lines.push(`& ${psq(`${folder}/script-${ctx.index}-${n}.ps1`)}`, ...exitCheck(codes, `Script ${script}`));
  });
  return lines;
}

/**
 * windows-restart: exit code 3010 asks the SSM agent to reboot the instance and resume the command after the
 * reboot, which is how SSM documents restarts from inside a command.
 */
export function renderWindowsRestart(config: Config): string[] {
  const restart = str(config, 'restart_command');
  return restart ? [restart, 'exit 3010'] : ['exit 3010'];
}
