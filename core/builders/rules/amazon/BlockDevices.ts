/** Every block device mapping names its device, and a device with a `kms_key_id` is `encrypted`. */
import type { Finding } from '../../../schema/spec.ts';
import { isSet, isTrue, knownString } from '../../../schema/values.ts';
import type { Config } from '../../../template/model.ts';

export function BlockDevices(config: Config): Finding[] {
  const out: Finding[] = [];
  for (const key of ['launch_block_device_mappings', 'ami_block_device_mappings'] as const) {
    const raw = config[key];
    const devices = Array.isArray(raw) ? raw : raw && typeof raw === 'object' ? [raw] : [];
    for (const device of devices) {
      if (!device || typeof device !== 'object') continue;
      const d = device as Record<string, unknown>;
      if (!isSet(d.device_name)) {
        out.push({ message: 'The `device_name` must be specified for every device in the block device mapping.', key });
      }
      if (isSet(d.kms_key_id) && !isTrue(d.encrypted)) {
        out.push({
          message: `The device ${knownString(d.device_name) ?? ''}, must also have \`encrypted: true\` when setting a kms_key_id.`,
          key,
        });
      }
    }
  }
  return out;
}
