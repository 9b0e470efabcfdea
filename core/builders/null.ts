/** null: no machine of its own; connects to an existing host (or none) to run provisioners (driver agent). */

import { communicatorRemovedKeys, communicatorRules, sshShape } from '../schema/options.ts';
import { isSet, knownString } from '../schema/values.ts';
import { defineBuilder } from './define.ts';

export const nullBuilder = defineBuilder({
  type: 'null',
  driver: 'agent',
  shape: sshShape,
  removedKeys: [...communicatorRemovedKeys],
  rules: (config, ctx) => {
    const type = knownString(config.communicator) ?? 'ssh';
    if (type === 'none') return [];
    const hostKey = type === 'winrm' ? 'winrm_host' : 'ssh_host';
    return [
      ...(isSet(config[hostKey])
        ? []
        : [
            {
              message: 'a Host must be specified, please reference your communicator documentation',
              key: 'communicator',
            },
          ]),
      ...communicatorRules(config, ctx),
    ];
  },
  summarize: () => ({ agentLabels: ['builder:null'] }),
});
