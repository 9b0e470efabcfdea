/**
 * VirtualBox uploads `.vbox_version` through the communicator unless `virtualbox_version_file = ""`, so without one
 * (`communicator = "none"`) the upload must be turned off (packer-plugin-virtualbox VBoxVersionConfig).
 */
import type { Finding } from '../../../schema/spec.ts';
import { isSet, knownString } from '../../../schema/values.ts';
import type { Config } from '../../../template/model.ts';

export function VBoxVersionFile(config: Config): Finding[] {
  if (knownString(config.communicator) !== 'none') return [];
  const file = config.virtualbox_version_file;
  if (file === '') return [];
  if (isSet(file) && knownString(file) === undefined) return []; // known only at build time
  return [
    {
      message: "virtualbox_version_file has to be an empty string when communicator = 'none'.",
      key: isSet(file) ? 'virtualbox_version_file' : 'communicator',
    },
  ];
}
