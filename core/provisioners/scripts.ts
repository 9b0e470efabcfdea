/** Checks shared by the script-running provisioners (shell, powershell, shell-local): one source of commands, scripts exist, env format. */
import { missingFile, resolvePath, statError } from '../builders/common/options.ts';
import type { Finding, ValidateContext } from '../builders/common/spec.ts';
import { isSet, knownString, stringList } from '../builders/common/values.ts';
import type { Config } from '../template/model.ts';

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

export function environmentRules(config: Config): Finding[] {
  const out: Finding[] = [];
  for (const kv of stringList(config.environment_vars)) {
    const eq = kv.indexOf('=');
    if (eq <= 0) {
      out.push({ message: `Environment variable not in format 'key=value': ${kv}`, key: 'environment_vars' });
    }
  }
  return out;
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
