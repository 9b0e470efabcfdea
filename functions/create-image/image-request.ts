/**
 * Pure construction of the CreateImage request (Packer's StepCreateAMI). Tags go on the image only: snapshot
 * tags are applied with CreateTags once the snapshots exist (moto answers 500 to snapshot TagSpecifications
 * here, and AWS tags snapshots only when they are created anyway).
 */
import type { CreateImageCommandInput } from '@aws-sdk/client-ec2';
import { toBlockDeviceMapping } from '../launch-builder/run-request.ts';
import { bool, type Config, objList, str } from '../lib/config.ts';
import { type KilnTagContext, kilnTags, mergeTags, toTags } from '../lib/tags.ts';

export function buildCreateImageRequest(
  config: Config,
  instanceId: string,
  tags: KilnTagContext,
): CreateImageCommandInput {
  const name = str(config, 'ami_name') ?? `kiln-${tags.buildId}-${tags.index}`;
  const description = str(config, 'ami_description');
  const mappings = objList(config, 'ami_block_device_mappings').map((m) => toBlockDeviceMapping(m, false));
  return {
    InstanceId: instanceId,
    Name: name,
    ...(description ? { Description: description } : {}),
    ...(mappings.length > 0 ? { BlockDeviceMappings: mappings } : {}),
    // The instance is stopped first (unless disable_stop_instance), so no reboot is needed for consistency.
    NoReboot: !(bool(config, 'disable_stop_instance') ?? false),
    TagSpecifications: [{ ResourceType: 'image', Tags: mergeTags(toTags(config.tags), kilnTags(tags)) }],
  };
}
