/** shell-local as a post-processor: same options and checks as the provisioner. */

import { shellLocalRules, shellLocalShape } from '../provisioners/shell-local.ts';
import { defineComponent } from '../schema/define.ts';

export const shellLocalPostProcessor = defineComponent('post-processor', {
  type: 'shell-local',
  shape: shellLocalShape,
  rules: shellLocalRules,
});
