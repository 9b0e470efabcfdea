/** vmware-iso: a new VMware VM from an ISO, on an on-prem agent (driver agent). */

import { int, str, strList } from '../schema/fields.ts';
import { communicatorRemovedKeys, isoRemovedKeys, isoRules, isoShape } from '../schema/options.ts';
import { defineBuilder } from './define.ts';
import { vmwareCommonShape, vmwareRules } from './hypervisor/vmware.ts';

export const vmwareIso = defineBuilder({
  type: 'vmware-iso',
  driver: 'agent',
  shape: {
    ...vmwareCommonShape,
    ...isoShape,
    disk_additional_size: strList(),
    disk_adapter_type: str(),
    vmdk_name: str(),
    disk_type_id: str(),
    cdrom_adapter_type: str(),
    version: int(),
    vmx_template_path: str(),
    vmx_disk_template_path: str(),
    snapshot_name: str(),
  },
  removedKeys: [...isoRemovedKeys, ...communicatorRemovedKeys],
  rules: (config, ctx) => [...isoRules(config), ...vmwareRules(config, ctx)],
  summarize: () => ({ agentLabels: ['builder:vmware-iso'] }),
});
