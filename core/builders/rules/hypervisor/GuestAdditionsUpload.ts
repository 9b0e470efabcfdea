/**
 * Guest additions are uploaded through the communicator in the default mode (`upload`), so `communicator = "none"`
 * needs `guest_additions_mode` `attach` or `disable` (packer-plugin-virtualbox GuestAdditionsConfig).
 */
import type { Finding } from '../../../schema/spec.ts';
import { isSet, knownString } from '../../../schema/values.ts';
import type { Config } from '../../../template/model.ts';

export function GuestAdditionsUpload(config: Config): Finding[] {
  if (knownString(config.communicator) !== 'none') return [];
  const mode = config.guest_additions_mode;
  const effective = isSet(mode) ? knownString(mode) : 'upload';
  return effective === 'upload'
    ? [
        {
          message: "communicator must not be 'none' when guest_additions_mode = 'upload'.",
          key: isSet(mode) ? 'guest_additions_mode' : 'communicator',
        },
      ]
    : [];
}
