/** powershell: Windows scripts over WinRM (agent) or SSM RunPowerShellScript. */
import { defineComponent } from '../schema/define.ts';
import { bool, type ConfigOf, duration, oneOf, str, strList } from '../schema/fields.ts';
import { REMOTE_SCRIPT_RULES, runRules, scriptSourceShape } from '../schema/scripts.ts';
import { ElevatedPassword } from './rules/ElevatedPassword.ts';

export const powershellShape = {
  ...scriptSourceShape,
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

  rules: runRules([...REMOTE_SCRIPT_RULES, ElevatedPassword]),
});
