/**
 * PublishImage: in every region that holds the build's AMI, apply launch permissions (ami_users, ami_groups,
 * ami_org_arns, ami_ou_arns), snapshot create-volume permissions (snapshot_users, snapshot_groups), tags on
 * the copies (the source image got them at creation) and deprecation (deprecate_at). Every call is idempotent.
 */
import {
  CreateTagsCommand,
  type EC2Client,
  EnableImageDeprecationCommand,
  type LaunchPermission,
  ModifyImageAttributeCommand,
  ModifySnapshotAttributeCommand,
} from '@aws-sdk/client-ec2';
import { type KilnTagContext, kilnTags, mergeTags, toTags } from '../../../aws/tags.ts';
import type { AmazonEbsConfig } from '../../../core/builders/amazon-ebs.ts';
import { DistributeFailedError } from '../../../core/errors.ts';
import { amiBuild } from '../../../core/plan/typed.ts';
import { items } from '../../../core/schema/decoded.ts';
import { awsCall } from '../../lib/aws-errors.ts';
import { loadBuildContext } from '../../lib/build-context.ts';
import {
  type Ec2AmiState,
  type ImageRecord,
  type PayloadOf,
  requireDriver,
  type StagePayload,
} from '../../lib/build-state.ts';
import type { BaseDeps } from '../../lib/stage-deps.ts';

const failed = (m: string, cause: unknown) => new DistributeFailedError(m, { cause });

export function launchPermissions(config: AmazonEbsConfig): LaunchPermission[] {
  return [
    ...items(config.ami_users).map((UserId) => ({ UserId })),
    ...items(config.ami_groups).map((g) => ({ Group: g as 'all' })),
    ...items(config.ami_org_arns).map((OrganizationArn) => ({ OrganizationArn })),
    ...items(config.ami_ou_arns).map((OrganizationalUnitArn) => ({ OrganizationalUnitArn })),
  ];
}

async function publishOne(
  ec2: EC2Client,
  image: ImageRecord,
  config: AmazonEbsConfig,
  tags: KilnTagContext,
  deprecateAt?: Date,
) {
  const where = `${image.imageId} in ${image.region}`;
  const permissions = launchPermissions(config);
  if (permissions.length > 0) {
    await awsCall(`sharing ${where}`, failed, () =>
      ec2.send(new ModifyImageAttributeCommand({ ImageId: image.imageId, LaunchPermission: { Add: permissions } })),
    );
  }
  const snapshotUsers = items(config.snapshot_users);
  const snapshotGroups = items(config.snapshot_groups);
  if (snapshotUsers.length > 0 || snapshotGroups.length > 0) {
    for (const snapshotId of image.snapshotIds) {
      await awsCall(`sharing snapshot ${snapshotId} of ${where}`, failed, () =>
        ec2.send(
          new ModifySnapshotAttributeCommand({
            SnapshotId: snapshotId,
            Attribute: 'createVolumePermission',
            OperationType: 'add',
            ...(snapshotUsers.length > 0 ? { UserIds: snapshotUsers } : {}),
            ...(snapshotGroups.length > 0 ? { GroupNames: snapshotGroups } : {}),
          }),
        ),
      );
    }
  }
  if (image.copy) {
    await awsCall(`tagging ${where}`, failed, () =>
      ec2.send(
        new CreateTagsCommand({ Resources: [image.imageId], Tags: mergeTags(toTags(config.tags), kilnTags(tags)) }),
      ),
    );
  }
  if (deprecateAt) {
    await awsCall(`setting deprecation of ${where}`, failed, () =>
      ec2.send(new EnableImageDeprecationCommand({ ImageId: image.imageId, DeprecateAt: deprecateAt })),
    );
  }
}

export async function publishImage(deps: BaseDeps, payload: StagePayload): Promise<PayloadOf<Ec2AmiState>> {
  const state = requireDriver(payload.state, 'ec2-ami');
  const ctx = await loadBuildContext(deps, state);
  const { config } = amiBuild(ctx.build);
  const deprecate = config.deprecate_at || undefined;
  const deprecateAt = deprecate ? new Date(deprecate) : undefined;
  if (deprecateAt && Number.isNaN(deprecateAt.getTime())) {
    throw new DistributeFailedError(`deprecate_at "${deprecate}" is not an RFC 3339 time (e.g. 2030-01-01T00:00:00Z)`);
  }
  for (const image of state.images)
    await publishOne(deps.ec2For(image.region), image, config, ctx.tagContext, deprecateAt);
  return { state, wait: { done: true, waitSeconds: 0 } };
}
