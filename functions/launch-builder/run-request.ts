/**
 * Pure construction of the RunInstances request for a builder instance (Packer's StepRunSourceInstance),
 * with Kiln's defaults: IMDSv2 required, encrypted volumes, no-ingress security group, SSM instance profile.
 */
import type { BlockDeviceMapping, Image, RunInstancesCommandInput, Tag, VolumeType } from '@aws-sdk/client-ec2';
import { bool, type Config, num, objList, str, strList } from '../lib/config.ts';
import { type KilnTagContext, kilnTags, mergeTags, toTags } from '../lib/tags.ts';

export interface LaunchSettings {
  readonly instanceProfile: string;
  readonly securityGroupId: string;
  readonly subnetIds: readonly string[];
}

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

/** Template `subnet_id` wins; otherwise spread builds over the configured subnets by build index. */
export function chooseSubnet(config: Config, subnetIds: readonly string[], index: number): string | undefined {
  return str(config, 'subnet_id') ?? (subnetIds.length > 0 ? subnetIds[index % subnetIds.length] : undefined);
}

export function instanceProfileSpec(config: Config, fallback: string): { Arn: string } | { Name: string } {
  const profile = str(config, 'iam_instance_profile') ?? fallback;
  return profile.startsWith('arn:') ? { Arn: profile } : { Name: profile };
}

export interface RunRequestInput {
  readonly config: Config;
  readonly source: Image;
  readonly settings: LaunchSettings;
  readonly tags: KilnTagContext;
  readonly clientToken: string;
  /** Raw user data (user_data or the content of user_data_file), base64-encoded here. */
  readonly userData?: string;
}

export function buildRunInstancesRequest(input: RunRequestInput): RunInstancesCommandInput {
  const { config, source, settings, tags } = input;
  const own: Tag[] = kilnTags(tags);
  const name: Tag[] = [{ Key: 'Name', Value: `Kiln builder ${tags.name}` }];
  const instanceTags = mergeTags(name, toTags(config.run_tags), own);
  const volumeTags = mergeTags(name, toTags(config.run_volume_tags), own);
  const subnetId = chooseSubnet(config, settings.subnetIds, tags.index);
  const securityGroups = strList(config, 'security_group_ids');
  const single = str(config, 'security_group_id');
  const groupIds = securityGroups.length > 0 ? securityGroups : single ? [single] : [settings.securityGroupId];
  const az = str(config, 'availability_zone');
  const tenancy = str(config, 'tenancy');
  const hopLimit = num(config, 'metadata_options_http_put_response_hop_limit');
  return {
    ImageId: source.ImageId,
    InstanceType: (str(config, 'instance_type') ?? 't3.micro') as RunInstancesCommandInput['InstanceType'],
    MinCount: 1,
    MaxCount: 1,
    ClientToken: input.clientToken,
    IamInstanceProfile: instanceProfileSpec(config, settings.instanceProfile),
    SecurityGroupIds: groupIds,
    ...(subnetId ? { SubnetId: subnetId } : {}),
    MetadataOptions: {
      HttpTokens: 'required',
      HttpEndpoint: 'enabled',
      ...(hopLimit !== undefined ? { HttpPutResponseHopLimit: hopLimit } : {}),
    },
    BlockDeviceMappings: launchBlockDevices(config, source),
    InstanceInitiatedShutdownBehavior: str(config, 'shutdown_behavior') === 'terminate' ? 'terminate' : 'stop',
    ...(bool(config, 'ebs_optimized') ? { EbsOptimized: true } : {}),
    ...(az || tenancy
      ? {
          Placement: { ...(az ? { AvailabilityZone: az } : {}), ...(tenancy ? { Tenancy: tenancy as 'default' } : {}) },
        }
      : {}),
    ...(input.userData !== undefined ? { UserData: Buffer.from(input.userData, 'utf8').toString('base64') } : {}),
    TagSpecifications: [
      { ResourceType: 'instance', Tags: instanceTags },
      { ResourceType: 'volume', Tags: volumeTags },
    ],
  };
}
