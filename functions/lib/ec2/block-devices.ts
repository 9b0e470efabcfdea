/**
 * Packer's block device mappings → EC2's, one rule for launch (LaunchBuilder) and image (CreateImage) mappings.
 */
import type { BlockDeviceMapping, Image, VolumeType } from '@aws-sdk/client-ec2';
import { bool, type Config, num, objList, str } from '../config.ts';

/** Packer block device keys → EC2; volumes are encrypted unless the template says `encrypted = false`. */
export function toBlockDeviceMapping(m: Config, encryptByDefault: boolean): BlockDeviceMapping {
  const deviceName = str(m, 'device_name');
  if (bool(m, 'no_device')) return { DeviceName: deviceName, NoDevice: '' };
  const virtualName = str(m, 'virtual_name');
  if (virtualName) return { DeviceName: deviceName, VirtualName: virtualName };
  const snapshotId = str(m, 'snapshot_id');
  const kmsKeyId = str(m, 'kms_key_id');
  const encrypted = bool(m, 'encrypted') ?? (snapshotId ? undefined : encryptByDefault);
  return {
    DeviceName: deviceName,
    Ebs: {
      DeleteOnTermination: bool(m, 'delete_on_termination') ?? true,
      ...(num(m, 'volume_size') !== undefined ? { VolumeSize: num(m, 'volume_size') } : {}),
      ...(str(m, 'volume_type') ? { VolumeType: str(m, 'volume_type') as VolumeType } : {}),
      ...(num(m, 'iops') !== undefined ? { Iops: num(m, 'iops') } : {}),
      ...(num(m, 'throughput') !== undefined ? { Throughput: num(m, 'throughput') } : {}),
      ...(snapshotId ? { SnapshotId: snapshotId } : {}),
      ...(encrypted !== undefined ? { Encrypted: encrypted } : {}),
      ...(kmsKeyId ? { KmsKeyId: kmsKeyId } : {}),
    },
  };
}

/**
 * The template's mappings, plus an encrypted root volume when the template does not map the root device.
 * `kms_key_id` encrypts that root volume at launch (Packer copies the image into the key afterwards; encrypting
 * at launch gives the same AMI, its snapshots under that key, without a second copy). The key must be one the
 * deployment allows (PrepareBuild checked it) and lives in the build's region.
 */
export function launchBlockDevices(config: Config, source: Image): BlockDeviceMapping[] {
  const mappings = objList(config, 'launch_block_device_mappings').map((m) => toBlockDeviceMapping(m, true));
  const root = source.RootDeviceName;
  if (root && source.RootDeviceType !== 'instance-store' && !mappings.some((m) => m.DeviceName === root)) {
    const kmsKeyId = str(config, 'kms_key_id');
    mappings.unshift({
      DeviceName: root,
      Ebs: { DeleteOnTermination: true, Encrypted: true, ...(kmsKeyId ? { KmsKeyId: kmsKeyId } : {}) },
    });
  }
  return mappings;
}
