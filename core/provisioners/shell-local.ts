/** shell-local: runs commands where Packer runs (the agent, or Kiln's orchestration for EC2 drivers); also a post-processor. */
import { defineComponent } from '../builders/common/define.ts';
import { bool, type ConfigOf, str, strList, strMap } from '../builders/common/fields.ts';
import type { Finding, ValidateContext } from '../builders/common/spec.ts';
import { isSet } from '../builders/common/values.ts';
import type { Config } from '../template/model.ts';
import { environmentRules, scriptExistenceRules } from './scripts.ts';

export const shellLocalShape = {
  command: str(),
  inline: strList(),
  script: str(),
  scripts: strList(),
  environment_vars: strList(),
  env: strMap(),
  env_var_format: str(),
  execute_command: strList(),
  inline_shebang: str(),
  only_on: strList(),
  tempfile_extension: str(),
  use_linux_pathing: bool(),
  valid_exit_codes: strList(),
};

export type ShellLocalConfig = ConfigOf<typeof shellLocalShape>;

export function shellLocalRules(config: Config, ctx: ValidateContext): Finding[] {
  const sources = ['command', 'inline', 'script', 'scripts'].filter((k) => isSet(config[k]));
  const out: Finding[] = [];
  if (sources.length === 0) out.push({ message: 'Command, Inline, Script and Scripts options cannot all be empty.' });
  if (sources.length > 1) {
    out.push({
      message: 'Only one of command, inline, script or scripts can be specified.',
      detail: `Got: ${sources.join(', ')}.`,
      key: sources[1],
    });
  }
  return [...out, ...scriptExistenceRules(config, ctx), ...environmentRules(config)];
}

export const shellLocal = defineComponent('provisioner', {
  type: 'shell-local',
  shape: shellLocalShape,
  rules: shellLocalRules,
});
