/** VirtualBox's `guest_additions_mode = "attach"` needs a communicator to use what it attaches. */
import type { Finding } from '../../../schema/spec.ts';
import { knownString } from '../../../schema/values.ts';
import type { Config } from '../../../template/model.ts';

export function GuestAdditionsAttach(config: Config): Finding[] {
  return knownString(config.guest_additions_mode) === 'attach' && knownString(config.communicator) === 'none'
    ? [{ message: 'guest_additions_mode "attach" needs a communicator', key: 'guest_additions_mode' }]
    : [];
}
