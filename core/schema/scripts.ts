/**
 * The rule lists of the script-running components (shell and powershell provisioners, shell-local as provisioner
 * and post-processor): one source of commands, scripts exist, environment names, exit codes, no NUL bytes. Each
 * rule is a file of its own under rules/.
 */

import { str, strList, strMap } from './fields.ts';
import { EnvironmentVars } from './rules/EnvironmentVars.ts';
import { NoNulBytes } from './rules/NoNulBytes.ts';
import { RemoteScriptSource } from './rules/RemoteScriptSource.ts';
import { ScriptsExist } from './rules/ScriptsExist.ts';
import { ShellLocalSource } from './rules/ShellLocalSource.ts';
import { ValidExitCodes } from './rules/ValidExitCodes.ts';
import type { ComponentRule, Finding } from './spec.ts';

/**
 * The options every script-running component takes for what to run and its environment (packer-plugin-sdk's
 * common shell provisioner config), in Packer's order.
 */
export const scriptSourceShape = {
  inline: strList(),
  script: str(),
  scripts: strList(),
  environment_vars: strList(),
  env: strMap(),
  env_var_format: str(),
};

/** What every script-running component checks about the environment it builds (in this order). */
export const ENVIRONMENT_RULES: readonly ComponentRule[] = [EnvironmentVars, ValidExitCodes, NoNulBytes];

/** shell and powershell. */
export const REMOTE_SCRIPT_RULES: readonly ComponentRule[] = [RemoteScriptSource, ScriptsExist, ...ENVIRONMENT_RULES];

/** shell-local, provisioner and post-processor alike. */
export const SHELL_LOCAL_RULES: readonly ComponentRule[] = [ShellLocalSource, ScriptsExist, ...ENVIRONMENT_RULES];

/** The rules as one component `rules` function: findings in list order. */
export function runRules(rules: readonly ComponentRule[]): ComponentRule {
  return (config, ctx): Finding[] => rules.flatMap((rule) => rule(config, ctx));
}
