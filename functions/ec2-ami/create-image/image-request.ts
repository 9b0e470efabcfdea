/**
 * Pure construction of the CreateImage request (Packer's StepCreateAMI). The image and its snapshots are tagged
 * at creation: the snapshots of a still-pending AMI must carry the build tag, or a failed build could not delete
 * them (DeleteSnapshot is conditioned on it). moto needed a patch for snapshot TagSpecifications; the product does not.
 */
import type { CreateImageCommandInput } from '@aws-sdk/client-ec2';
import { type KilnTagContext, kilnTags, mergeTags, toTags } from '../../../aws/tags.ts';
import { amiName } from '../../../core/builders/amazon-ebs.ts';
import type { PlannedAmiBuild } from '../../../core/plan/types.ts';
import { known } from '../../../core/schema/decoded.ts';
import { toBlockDeviceMapping } from '../../lib/ec2/block-devices.ts';

export function buildCreateImageRequest(
  build: Pick<PlannedAmiBuild, 'config' | 'ami'>,
  instanceId: string,
  tags: KilnTagContext,
): CreateImageCommandInput {
  const { config } = build;
  const name = amiName(build.ami, tags.buildId, tags.index);
  const description = config.ami_description || undefined;
  const mappings = (known(config.ami_block_device_mappings) ?? []).map((m) => toBlockDeviceMapping(m, false));
  return {
    InstanceId: instanceId,
    Name: name,
    ...(description ? { Description: description } : {}),
    ...(mappings.length > 0 ? { BlockDeviceMappings: mappings } : {}),
    // The instance is stopped first (unless disable_stop_instance), so no reboot is needed for consistency.
    NoReboot: !(known(config.disable_stop_instance) ?? false),
    TagSpecifications: [
      { ResourceType: 'image', Tags: mergeTags(toTags(config.tags), kilnTags(tags)) },
      { ResourceType: 'snapshot', Tags: mergeTags(toTags(config.snapshot_tags), kilnTags(tags)) },
    ],
  };
}
