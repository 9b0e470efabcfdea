/** shell: runs inline commands or uploaded scripts on the machine being built (SSM RunShellScript for EC2 drivers). */
import { defineComponent } from '../schema/define.ts';
import { bool, type ConfigOf, duration, str, strList } from '../schema/fields.ts';
import { REMOTE_SCRIPT_RULES, runRules, scriptSourceShape } from '../schema/scripts.ts';

export const shellShape = {
  ...scriptSourceShape,
  use_env_var_file: bool(),
  execute_command: str(),
  inline_shebang: str(),
  valid_exit_codes: strList(),
  expect_disconnect: bool(),
  remote_folder: str(),
  remote_file: str(),
  remote_path: str(),
  skip_clean: bool(),
  start_retry_timeout: duration(),
  pause_after: duration(),
  binary: bool(),
};

export type ShellConfig = ConfigOf<typeof shellShape>;

export const shell = defineComponent('provisioner', {
  type: 'shell',
  shape: shellShape,
  rules: runRules(REMOTE_SCRIPT_RULES),
});
