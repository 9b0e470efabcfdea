/**
 * AMI-name pre-validation (Packer's StepPreValidate): ec2-ami only, before the builder is launched.
 */
import {
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { TAG_BUILD_ID } from '../../../aws/tags.ts';
import { AmiNameInUseError, LaunchFailedError } from '../../../core/errors.ts';
import type { PlannedAmiBuild } from '../../../core/plan/types.ts';
import { known } from '../../../core/schema/decoded.ts';
import { awsCall } from '../../lib/aws-errors.ts';

const launchFailed = (m: string, cause: unknown) => new LaunchFailedError(m, { cause });

export interface PreValidateResult {
  /** AMIs deregistered because of force_deregister (for the build notes). */
  readonly deregistered: string[];
}

const madeByKiln = (tags: readonly { Key?: string }[] | undefined) => (tags ?? []).some((t) => t.Key === TAG_BUILD_ID);

/**
 * Fails with Kiln.AmiNameInUse when an AMI with the target name exists, unless force_deregister, which removes
 * it (and its snapshots with force_delete_snapshot) the way Packer does, but only when Kiln made it: Kiln's role
 * may deregister and delete only images and snapshots carrying the `kiln:build-id` tag, so everything is checked
 * before anything is removed, and a foreign AMI or snapshot stops the build with a message saying what to do.
 */
export async function preValidateAmiName(
  ec2: EC2Client,
  build: Pick<PlannedAmiBuild, 'config' | 'ami'>,
): Promise<PreValidateResult> {
  const { config } = build;
  // Only a name the template gives can exist already; Kiln's own (kiln-<build id>-<index>) is new per build.
  const amiName = build.ami.name;
  if (!amiName || known(config.skip_create_ami)) return { deregistered: [] };
  const out = await awsCall(`checking whether an AMI named "${amiName}" exists`, launchFailed, () =>
    ec2.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: [amiName] }] })),
  );
  const existing = (out.Images ?? []).filter((i) => i.ImageId);
  if (existing.length === 0) return { deregistered: [] };
  const ids = existing.map((i) => i.ImageId).join(', ');
  if (!known(config.force_deregister)) {
    throw new AmiNameInUseError(
      `An AMI named "${amiName}" already exists (${ids}): change ami_name ` +
        '(e.g. add {{timestamp}}) or set force_deregister = true',
    );
  }
  const foreign = existing.filter((i) => !madeByKiln(i.Tags)).map((i) => i.ImageId);
  if (foreign.length > 0) {
    throw new AmiNameInUseError(
      `force_deregister: the AMI named "${amiName}" (${foreign.join(', ')}) was not created by Kiln (it has no ` +
        `${TAG_BUILD_ID} tag), and Kiln only deregisters AMIs it created. Deregister it yourself ` +
        '(aws ec2 deregister-image) or change ami_name.',
    );
  }
  const deleteSnapshots = known(config.force_delete_snapshot) ?? false;
  const snapshotIds = deleteSnapshots
    ? existing.flatMap((i) =>
        (i.BlockDeviceMappings ?? []).flatMap((m) => (m.Ebs?.SnapshotId ? [m.Ebs.SnapshotId] : [])),
      )
    : [];
  if (snapshotIds.length > 0) {
    const described = await awsCall('checking the snapshots to delete (force_delete_snapshot)', launchFailed, () =>
      ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: snapshotIds })),
    );
    const tagged = new Set((described.Snapshots ?? []).filter((s) => madeByKiln(s.Tags)).map((s) => s.SnapshotId));
    const untagged = snapshotIds.filter((id) => !tagged.has(id));
    if (untagged.length > 0) {
      throw new AmiNameInUseError(
        `force_delete_snapshot: the snapshots ${untagged.join(', ')} of the AMI named "${amiName}" (${ids}) do not ` +
          `carry the ${TAG_BUILD_ID} tag, and Kiln only deletes snapshots it created. Delete the AMI and its ` +
          'snapshots yourself, or set force_delete_snapshot = false to keep the snapshots.',
      );
    }
  }
  for (const image of existing) {
    const imageId = image.ImageId as string;
    await awsCall(`deregistering ${imageId} (force_deregister)`, launchFailed, () =>
      ec2.send(new DeregisterImageCommand({ ImageId: imageId })),
    );
  }
  for (const snapshotId of snapshotIds) {
    await awsCall(`deleting snapshot ${snapshotId} (force_delete_snapshot)`, launchFailed, () =>
      ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId })),
    );
  }
  return { deregistered: existing.map((i) => i.ImageId as string) };
}
