/** vmware-vmx: clones an existing VMware VM (`source_path`), on an on-prem agent (driver agent). */

import { bool, str } from '../schema/fields.ts';
import { communicatorRemovedKeys, missingFile, statError } from '../schema/options.ts';
import { isSet, knownString } from '../schema/values.ts';
import { defineBuilder } from './define.ts';
import { vmwareCommonShape, vmwareRules } from './hypervisor/vmware.ts';

export const vmwareVmx = defineBuilder({
  type: 'vmware-vmx',
  driver: 'agent',
  shape: { ...vmwareCommonShape, source_path: str(), linked: bool(), attach_snapshot: str(), snapshot_name: str() },
  removedKeys: [...communicatorRemovedKeys],
  rules: (config, ctx) => {
    const out = vmwareRules(config, ctx);
    const source = knownString(config.source_path);
    if (!isSet(config.source_path)) out.push({ message: 'source_path is blank, but is required' });
    else if (source && !/^[a-z]+:\/\//.test(source) && missingFile(ctx, source)) {
      out.push({ message: `source_path is invalid: ${statError(source)}`, key: 'source_path' });
    }
    return out;
  },
  summarize: () => ({ agentLabels: ['builder:vmware-vmx'] }),
});
