/** vmware-vmx: clones an existing VMware VM (`source_path`), on an on-prem agent (driver agent). */

import { bool, str } from '../schema/fields.ts';
import { communicatorRemovedKeys } from '../schema/options.ts';
import { defineBuilder } from './define.ts';
import { vmwareCommonShape, vmwareRules } from './hypervisor/vmware.ts';
import { VmxSourcePath } from './rules/hypervisor/VmxSourcePath.ts';

export const vmwareVmx = defineBuilder({
  type: 'vmware-vmx',
  driver: 'agent',
  shape: { ...vmwareCommonShape, source_path: str(), linked: bool(), attach_snapshot: str(), snapshot_name: str() },
  removedKeys: [...communicatorRemovedKeys],
  rules: (config, ctx) => [...vmwareRules(config, ctx), ...VmxSourcePath(config, ctx)],
  summarize: () => ({ agentLabels: ['builder:vmware-vmx'] }),
});
