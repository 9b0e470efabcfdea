/**
 * shell-local's options and checks, shared by the provisioner and the post-processor of that name (Packer's
 * packer-plugin-sdk/shell-local, which both import): runs commands where Packer runs (the agent, or Kiln's
 * orchestration for EC2 drivers).
 */
import { bool, str, strList } from './fields.ts';
import { runRules, SHELL_LOCAL_RULES, scriptSourceShape } from './scripts.ts';

export const shellLocalShape = {
  command: str(),
  ...scriptSourceShape,
  execute_command: strList(),
  inline_shebang: str(),
  only_on: strList(),
  tempfile_extension: str(),
  use_linux_pathing: bool(),
  valid_exit_codes: strList(),
};

export const shellLocalRules = runRules(SHELL_LOCAL_RULES);
