/** shell-local: runs commands where Packer runs (the agent, or Kiln's orchestration for EC2 drivers); also a post-processor. */
import { defineComponent } from '../schema/define.ts';
import type { ConfigOf } from '../schema/fields.ts';
import { shellLocalRules, shellLocalShape } from '../schema/shell-local.ts';

export type ShellLocalConfig = ConfigOf<typeof shellLocalShape>;

export const shellLocal = defineComponent('provisioner', {
  type: 'shell-local',
  shape: shellLocalShape,
  rules: shellLocalRules,
});
