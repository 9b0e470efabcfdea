/** shell-local as a post-processor: same options and checks as the provisioner. */

import { defineComponent } from '../schema/define.ts';
import { shellLocalRules, shellLocalShape } from '../schema/shell-local.ts';

export const shellLocalPostProcessor = defineComponent('post-processor', {
  type: 'shell-local',
  shape: shellLocalShape,
  rules: shellLocalRules,
});
