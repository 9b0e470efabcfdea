/** virtualbox-ovf: imports an OVF/OVA (`source_path`) into VirtualBox, on an on-prem agent (driver agent). */

import { str, strList } from '../schema/fields.ts';
import { communicatorRemovedKeys } from '../schema/options.ts';
import { defineBuilder } from './define.ts';
import { virtualboxCommonShape, virtualboxRules } from './hypervisor/virtualbox.ts';
import { OvfSourcePath } from './rules/hypervisor/OvfSourcePath.ts';

export const virtualboxOvf = defineBuilder({
  type: 'virtualbox-ovf',
  driver: 'agent',
  shape: {
    ...virtualboxCommonShape,
    source_path: str(),
    checksum: str(),
    import_flags: strList(),
    import_opts: str(),
    target_path: str(),
  },
  removedKeys: [...communicatorRemovedKeys, 'guest_additions_attach'],
  rules: (config, ctx) => [...OvfSourcePath(config), ...virtualboxRules(config, ctx)],
  summarize: () => ({ agentLabels: ['builder:virtualbox-ovf'] }),
});
