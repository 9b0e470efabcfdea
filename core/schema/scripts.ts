/** Checks shared by the script-running provisioners (shell, powershell, shell-local): one source of commands, scripts exist, env format. */

import type { Config } from '../template/model.ts';
import { envNameProblem, printable } from './env-names.ts';
import { missingFile, resolvePath, statError } from './options.ts';
import type { Finding, ValidateContext } from './spec.ts';
import { isSet, knownString, stringList, stringMap } from './values.ts';

/** Script paths as Packer collects them: `script` first, then `scripts`. */
export function scriptPaths(config: Config): string[] {
  return [...stringList(config.script), ...stringList(config.scripts)];
}

export function scriptExistenceRules(config: Config, ctx: ValidateContext): Finding[] {
  const out: Finding[] = [];
  for (const path of scriptPaths(config)) {
    if (missingFile(ctx, path)) {
      out.push({
        message: `Bad script '${path}': ${statError(path)}`,
        detail: `Kiln looked for ${resolvePath(ctx, path)}.`,
        key: isSet(config.script) && knownString(config.script) === path ? 'script' : 'scripts',
      });
    }
  }
  return out;
}

/**
 * `environment_vars` and `env`: Packer only needs `key=value` with a non-empty key; Kiln also needs the key to
 * be an identifier, because names are written unquoted into generated shell and PowerShell.
 */
export function environmentRules(config: Config): Finding[] {
  const out: Finding[] = [];
  for (const kv of stringList(config.environment_vars)) {
    const eq = kv.indexOf('=');
    if (eq <= 0) {
      out.push({
        message: `Environment variable not in format 'key=value': ${printable(kv)}`,
        key: 'environment_vars',
      });
      continue;
    }
    const problem = envNameProblem(kv.slice(0, eq));
    if (problem) out.push({ message: problem, key: 'environment_vars' });
  }
  for (const name of Object.keys(stringMap(config.env))) {
    const problem = envNameProblem(name);
    if (problem) out.push({ message: problem, key: 'env' });
  }
  return [...out, ...exitCodeRules(config), ...nulRules(config)];
}

/** `valid_exit_codes` are written into the generated script: whole numbers only. */
export function exitCodeRules(config: Config): Finding[] {
  return stringList(config.valid_exit_codes)
    .filter((code) => !/^-?\d{1,10}$/.test(code.trim()))
    .map((code) => ({
      message: `valid_exit_codes: "${printable(code)}" is not a whole number`,
      key: 'valid_exit_codes',
    }));
}

/** Known strings anywhere in a provisioner's config, with the top-level key they sit under. */
function stringsUnder(value: unknown, key: string, out: [string, string][]): void {
  const known = knownString(value);
  if (known !== undefined) out.push([key, known]);
  else if (Array.isArray(value)) for (const item of value) stringsUnder(item, key, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(stringMap(value))) {
      out.push([key, k]);
      stringsUnder(v, key, out);
    }
  }
}

/** A NUL byte cannot travel through a shell or an SSM command: refuse it wherever it is. */
export function nulRules(config: Config): Finding[] {
  const found: [string, string][] = [];
  for (const [key, value] of Object.entries(config)) stringsUnder(value, key, found);
  const keys = new Set(found.filter(([, v]) => v.includes('\0')).map(([k]) => k));
  return [...keys].map((key) => ({
    message: `${key} contains a NUL byte, which a shell cannot carry`,
    detail: 'Remove the NUL (\\u0000) character from the value.',
    key,
  }));
}

/** shell / powershell: exactly one of inline, script, scripts. */
export function remoteScriptRules(config: Config, ctx: ValidateContext): Finding[] {
  const out: Finding[] = [];
  if (isSet(config.script) && isSet(config.scripts)) {
    out.push({ message: 'Only one of script or scripts can be specified.', key: 'scripts' });
  }
  const hasScripts = isSet(config.script) || isSet(config.scripts);
  const hasInline = config.inline !== undefined && config.inline !== null;
  if (!hasScripts && !hasInline) out.push({ message: 'Either a script file or inline script must be specified.' });
  else if (hasScripts && hasInline) {
    out.push({ message: 'Only a script file or an inline script can be specified, not both.', key: 'inline' });
  }
  return [...out, ...scriptExistenceRules(config, ctx), ...environmentRules(config)];
}
