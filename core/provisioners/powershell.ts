/** powershell: Windows scripts over WinRM (agent) or SSM RunPowerShellScript. */
import { defineComponent } from '../builders/common/define.ts';
import { bool, type ConfigOf, duration, oneOf, str, strList, strMap } from '../builders/common/fields.ts';
import { isSet } from '../builders/common/values.ts';
import { remoteScriptRules } from './scripts.ts';

export const powershellShape = {
  inline: strList(),
  script: str(),
  scripts: strList(),
  environment_vars: strList(),
  env: strMap(),
  env_var_format: str(),
  use_env_var_file: bool(),
  execute_command: str(),
  elevated_execute_command: str(),
  elevated_user: str(),
  elevated_password: str(),
  elevated_env_var_format: str(),
  remote_path: str(),
  remote_env_var_path: str(),
  skip_clean: bool(),
  start_retry_timeout: duration(),
  pause_after: duration(),
  valid_exit_codes: strList(),
  execution_policy: oneOf(
    'bypass',
    'allsigned',
    'default',
    'remotesigned',
    'restricted',
    'undefined',
    'unrestricted',
    'none',
  ),
  binary: bool(),
  use_pwsh: bool(),
  debug_mode: strList(),
};

export type PowerShellConfig = ConfigOf<typeof powershellShape>;

export const powershell = defineComponent('provisioner', {
  type: 'powershell',
  shape: powershellShape,
  rules: (config, ctx) => [
    ...remoteScriptRules(config, ctx),
    ...(isSet(config.elevated_user) && config.elevated_password === undefined
      ? [{ message: "Must supply an 'elevated_password' if 'elevated_user' provided", key: 'elevated_user' }]
      : []),
  ],
});
