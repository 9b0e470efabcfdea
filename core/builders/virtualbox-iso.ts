/** virtualbox-iso: a new VirtualBox VM from an ISO, on an on-prem agent (driver agent). */

import { bool, int, oneOf, str, strList } from '../schema/fields.ts';
import { communicatorRemovedKeys, isoRemovedKeys, isoRules, isoShape } from '../schema/options.ts';
import { defineBuilder } from './define.ts';
import { virtualboxCommonShape, virtualboxRules } from './hypervisor/virtualbox.ts';

export const virtualboxIso = defineBuilder({
  type: 'virtualbox-iso',
  driver: 'agent',
  shape: {
    ...virtualboxCommonShape,
    ...isoShape,
    disk_additional_size: strList(),
    hard_drive_interface: oneOf('ide', 'sata', 'scsi', 'pcie', 'virtio'),
    hard_drive_discard: bool(),
    hard_drive_nonrotational: bool(),
    iso_interface: oneOf('ide', 'sata', 'virtio'),
    sata_port_count: int(),
    nvme_port_count: int(),
    keep_registered: bool(),
    cpu_execution_cap: int(),
    vm_name: str(),
  },
  removedKeys: [...isoRemovedKeys, ...communicatorRemovedKeys, 'guest_additions_attach'],
  rules: (config, ctx) => [...isoRules(config), ...virtualboxRules(config, ctx)],
  summarize: () => ({ agentLabels: ['builder:virtualbox-iso'] }),
});
