/**
 * Pure construction of the RunInstances request for a builder instance (Packer's StepRunSourceInstance),
 * with Kiln's defaults: IMDSv2 required, encrypted volumes, no-ingress security group, SSM instance profile.
 */
import type { Image, RunInstancesCommandInput, Tag } from '@aws-sdk/client-ec2';
import type { DockerHostSettings } from '../../../aws/docker-host.ts';
import { type KilnTagContext, kilnTags, mergeTags, toTags } from '../../../aws/tags.ts';
import type { AmazonEbsConfig } from '../../../core/builders/amazon-ebs.ts';
import { items, known } from '../../../core/schema/decoded.ts';
import { launchBlockDevices } from '../../lib/ec2/block-devices.ts';

export interface LaunchSettings {
  readonly instanceProfile: string;
  readonly securityGroupId: string;
  readonly subnetIds: readonly string[];
}

/** Template `subnet_id` wins; otherwise spread builds over the configured subnets by build index. */
export function chooseSubnet(config: AmazonEbsConfig, subnetIds: readonly string[], index: number): string | undefined {
  return config.subnet_id || (subnetIds.length > 0 ? subnetIds[index % subnetIds.length] : undefined);
}

export function instanceProfileSpec(config: AmazonEbsConfig, fallback: string): { Arn: string } | { Name: string } {
  const profile = config.iam_instance_profile || fallback;
  return profile.startsWith('arn:') ? { Arn: profile } : { Name: profile };
}

export interface RunRequestInput {
  readonly config: AmazonEbsConfig;
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
  const securityGroups = items(config.security_group_ids);
  const single = config.security_group_id || undefined;
  const groupIds = securityGroups.length > 0 ? securityGroups : single ? [single] : [settings.securityGroupId];
  const az = config.availability_zone || undefined;
  const tenancy = config.tenancy || undefined;
  // IMDSv2 is always required; of metadata_options, only the hop limit is the template's to choose.
  const hopLimit = known(known(config.metadata_options)?.http_put_response_hop_limit);
  return {
    ImageId: source.ImageId,
    InstanceType: (config.instance_type || 't3.micro') as RunInstancesCommandInput['InstanceType'],
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
    InstanceInitiatedShutdownBehavior: config.shutdown_behavior === 'terminate' ? 'terminate' : 'stop',
    ...(known(config.ebs_optimized) ? { EbsOptimized: true } : {}),
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

export interface DockerHostRequestInput {
  readonly imageId: string;
  readonly host: DockerHostSettings;
  readonly settings: LaunchSettings;
  readonly tags: KilnTagContext;
  readonly clientToken: string;
}

/**
 * The builder host of a docker build: the docker builder has no EC2 options, so everything comes from the stack
 * (instance type, volume, network) with the same defaults as an AMI builder: IMDSv2 required (hop limit 1, so a
 * container cannot reach the host's credentials), an encrypted gp3 root volume, no ingress, the SSM profile.
 */
export function buildDockerHostRequest(input: DockerHostRequestInput): RunInstancesCommandInput {
  const { settings, tags, host } = input;
  const own: Tag[] = kilnTags(tags);
  const name: Tag[] = [{ Key: 'Name', Value: `Kiln docker host ${tags.name}` }];
  const subnetId =
    settings.subnetIds.length > 0 ? settings.subnetIds[tags.index % settings.subnetIds.length] : undefined;
  const profile = settings.instanceProfile;
  return {
    ImageId: input.imageId,
    InstanceType: host.instanceType as RunInstancesCommandInput['InstanceType'],
    MinCount: 1,
    MaxCount: 1,
    ClientToken: input.clientToken,
    IamInstanceProfile: profile.startsWith('arn:') ? { Arn: profile } : { Name: profile },
    SecurityGroupIds: [settings.securityGroupId],
    ...(subnetId ? { SubnetId: subnetId } : {}),
    MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 },
    BlockDeviceMappings: [
      {
        DeviceName: '/dev/xvda',
        Ebs: { VolumeSize: host.volumeGiB, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true },
      },
    ],
    InstanceInitiatedShutdownBehavior: 'terminate',
    TagSpecifications: [
      { ResourceType: 'instance', Tags: mergeTags(name, own) },
      { ResourceType: 'volume', Tags: mergeTags(name, own) },
    ],
  };
}
