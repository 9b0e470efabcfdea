/**
 * Renders `powershell` and `windows-restart` provisioners for AWS-RunPowerShellScript. Values reach the script
 * only as PowerShell single-quoted strings (`psq`); variable names only as checked identifiers.
 */

import { ProvisionerFailedError } from '../../errors.ts';
import { items, known } from '../../schema/decoded.ts';
import type { PowerShellConfig } from '../powershell.ts';
import type { WindowsRestartConfig } from '../windows-restart.ts';
import { assertEnvName, parseEnvVars, psq } from './quote.ts';
import { exitCodes, type ShellRenderContext } from './shell.ts';

function exitCheck(codes: readonly number[], what: string): string[] {
  return [
    '$kilnRc = if ($null -eq $LASTEXITCODE) { 0 } else { $LASTEXITCODE }',
    `if (@(${codes.join(', ')}) -notcontains $kilnRc) { Write-Error (${psq(`${what} exited with non-zero exit status: `)} + $kilnRc); exit $kilnRc }`,
  ];
}

/** `environment_vars`, `env` and Packer's two variables as `$env:NAME = '…'` lines. */
function envLines(config: PowerShellConfig, ctx: ShellRenderContext): string[] {
  const vars = parseEnvVars(items(config.environment_vars));
  const map = known(config.env);
  if (map) {
    for (const [k, v] of Object.entries(map)) vars.push([assertEnvName(k), String(v)]);
  }
  vars.push(['PACKER_BUILDER_TYPE', ctx.builderType], ['PACKER_BUILD_NAME', ctx.buildName]);
  return vars.map(([k, v]) => `$env:${assertEnvName(k)} = ${psq(v)}`);
}

export function renderPowerShell(config: PowerShellConfig, ctx: ShellRenderContext): string[] {
  const codes = exitCodes(config);
  const lines: string[] = ["$ErrorActionPreference = 'Stop'", "$ProgressPreference = 'SilentlyContinue'"];
  lines.push(...envLines(config, ctx));
  const inline = items(config.inline);
  if (inline.length > 0) {
    lines.push(...inline, ...exitCheck(codes, 'Inline script'));
    return lines;
  }
  const scripts = [...(config.script ? [config.script] : []), ...items(config.scripts)];
  if (scripts.length === 0)
    throw new ProvisionerFailedError('The powershell provisioner has no inline, script or scripts');
  // powershell has no remote_folder option (the validator refuses it), so scripts always go here.
  const folder = 'C:/Windows/Temp';
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
export function renderWindowsRestart(config: WindowsRestartConfig): string[] {
  const restart = config.restart_command || undefined;
  return restart ? [restart, 'exit 3010'] : ['exit 3010'];
}
