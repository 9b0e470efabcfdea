/** null: no machine of its own; connects to an existing host (or none) to run provisioners (driver agent). */

import { communicatorRemovedKeys, communicatorRules, sshShape } from '../schema/options.ts';
import { defineBuilder } from './define.ts';
import { NullHost } from './rules/NullHost.ts';

export const nullBuilder = defineBuilder({
  type: 'null',
  driver: 'agent',
  shape: sshShape,
  removedKeys: [...communicatorRemovedKeys],
  rules: (config, ctx) => [...NullHost(config), ...communicatorRules(config, ctx)],
  summarize: () => ({ agentLabels: ['builder:null'] }),
});
