/**
 * Packer's block device mappings → EC2's, one rule for launch (LaunchBuilder) and image (CreateImage) mappings.
 */
import type { BlockDeviceMapping, Image, VolumeType } from '@aws-sdk/client-ec2';
import type { BlockDeviceConfig } from '../../../core/builders/amazon/shape.ts';
import type { AmazonEbsConfig } from '../../../core/builders/amazon-ebs.ts';
import { known } from '../../../core/schema/decoded.ts';

/** Packer block device keys → EC2; volumes are encrypted unless the template says `encrypted = false`. */
export function toBlockDeviceMapping(m: BlockDeviceConfig, encryptByDefault: boolean): BlockDeviceMapping {
  const deviceName = m.device_name || undefined;
  if (known(m.no_device)) return { DeviceName: deviceName, NoDevice: '' };
  const virtualName = m.virtual_name || undefined;
  if (virtualName) return { DeviceName: deviceName, VirtualName: virtualName };
  const snapshotId = m.snapshot_id || undefined;
  const kmsKeyId = m.kms_key_id || undefined;
  const encrypted = known(m.encrypted) ?? (snapshotId ? undefined : encryptByDefault);
  const volumeSize = known(m.volume_size);
  const iops = known(m.iops);
  const throughput = known(m.throughput);
  return {
    DeviceName: deviceName,
    Ebs: {
      DeleteOnTermination: known(m.delete_on_termination) ?? true,
      ...(volumeSize !== undefined ? { VolumeSize: volumeSize } : {}),
      ...(m.volume_type ? { VolumeType: m.volume_type as VolumeType } : {}),
      ...(iops !== undefined ? { Iops: iops } : {}),
      ...(throughput !== undefined ? { Throughput: throughput } : {}),
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
export function launchBlockDevices(config: AmazonEbsConfig, source: Image): BlockDeviceMapping[] {
  const mappings = (known(config.launch_block_device_mappings) ?? []).map((m) => toBlockDeviceMapping(m, true));
  const root = source.RootDeviceName;
  if (root && source.RootDeviceType !== 'instance-store' && !mappings.some((m) => m.DeviceName === root)) {
    const kmsKeyId = config.kms_key_id || undefined;
    mappings.unshift({
      DeviceName: root,
      Ebs: { DeleteOnTermination: true, Encrypted: true, ...(kmsKeyId ? { KmsKeyId: kmsKeyId } : {}) },
    });
  }
  return mappings;
}
