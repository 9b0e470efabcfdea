import { ArnFormat } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { BUILD_ID_TAG, EC2_DESCRIBE_ACTIONS, type PermissionTargets, tagPresent } from './permission-basics.ts';

/**
 * The `builder-ec2` scope: launch, stop, image, copy, publish and clean up builders and their AMIs, each mutating
 * call pinned to Kiln's resources by the `kiln:build-id` tag, the create action or the builder VPC.
 */

export function ec2Arn(
  t: PermissionTargets,
  resource: string,
  opts: { anyRegion?: boolean; noAccount?: boolean } = {},
) {
  return t.stack.formatArn({
    service: 'ec2',
    resource,
    resourceName: '*',
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    ...(opts.anyRegion ? { region: '*' } : {}),
    // Image and snapshot ARNs carry no account id (they may belong to anyone).
    ...(opts.noAccount ? { account: '' } : {}),
  });
}

export function builderEc2Statements(t: PermissionTargets): iam.PolicyStatement[] {
  const instances = ec2Arn(t, 'instance');
  const volumes = ec2Arn(t, 'volume');
  // Distribution copies images into other regions, so image/snapshot statements are not pinned to this region.
  const images = ec2Arn(t, 'image', { anyRegion: true, noAccount: true });
  const snapshots = ec2Arn(t, 'snapshot', { anyRegion: true, noAccount: true });
  const vpcArn = t.stack.formatArn({
    service: 'ec2',
    resource: 'vpc',
    resourceName: t.builderVpcId,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
  const networkResources = ['subnet', 'security-group', 'network-interface'].map((r) => ec2Arn(t, r));
  return [
    new iam.PolicyStatement({
      sid: 'RunTaggedBuilders',
      actions: ['ec2:RunInstances'],
      resources: [instances, volumes],
      conditions: tagPresent(`aws:RequestTag/${BUILD_ID_TAG}`),
    }),
    new iam.PolicyStatement({
      sid: 'RunBuildersInBuilderVpc',
      actions: ['ec2:RunInstances'],
      resources: networkResources,
      conditions: { ArnEquals: { 'ec2:Vpc': vpcArn } },
    }),
    new iam.PolicyStatement({
      sid: 'RunBuildersFromAnyImage',
      // Source AMIs belong to anyone (Canonical, Amazon, the user); launching from them is read-only for them.
      actions: ['ec2:RunInstances'],
      resources: [images],
    }),
    new iam.PolicyStatement({
      sid: 'TagOnCreateOnly',
      actions: ['ec2:CreateTags'],
      resources: [instances, volumes, ec2Arn(t, 'network-interface'), images, snapshots],
      conditions: { StringEquals: { 'ec2:CreateAction': ['RunInstances', 'CreateImage', 'CopyImage'] } },
    }),
    new iam.PolicyStatement({
      sid: 'TagKilnImagesAfterCreate',
      // Snapshots (tagged once CreateImage made them) and regional copies (tagged after CopyImage) are untagged
      // when the stage tags them, so the request must carry the build tag; already-Kiln resources may be retagged
      // (Packer's ami_tags/snapshot_tags). Caveat: this lets the role stamp the build tag on any AMI or snapshot,
      // which per-build roles would close; accepted for one trusted pipeline role.
      actions: ['ec2:CreateTags'],
      resources: [images, snapshots],
      conditions: tagPresent(`aws:RequestTag/${BUILD_ID_TAG}`),
    }),
    new iam.PolicyStatement({
      sid: 'RetagKilnImages',
      actions: ['ec2:CreateTags'],
      resources: [images, snapshots],
      conditions: tagPresent(`aws:ResourceTag/${BUILD_ID_TAG}`),
    }),
    new iam.PolicyStatement({
      sid: 'ControlKilnBuilders',
      actions: ['ec2:StopInstances', 'ec2:TerminateInstances', 'ec2:CreateImage'],
      resources: [instances],
      conditions: tagPresent(`aws:ResourceTag/${BUILD_ID_TAG}`),
    }),
    new iam.PolicyStatement({
      sid: 'CreateTaggedImages',
      // The new image must carry the build tag (tag on create); its source instance is constrained above.
      actions: ['ec2:CreateImage'],
      resources: [images],
      conditions: tagPresent(`aws:RequestTag/${BUILD_ID_TAG}`),
    }),
    new iam.PolicyStatement({
      sid: 'CreateImageSnapshots',
      // CreateImage also authorizes the snapshots it makes; the stage tags them once they exist.
      actions: ['ec2:CreateImage'],
      resources: [snapshots],
    }),
    new iam.PolicyStatement({
      sid: 'CopyImages',
      // CopyImage only creates (it cannot change or delete the source); the distribute stage tags each copy
      // right after. Passing TagSpecifications on CopyImage would allow an aws:RequestTag condition here.
      actions: ['ec2:CopyImage'],
      resources: [images, snapshots],
    }),
    new iam.PolicyStatement({
      sid: 'ManageKilnImages',
      actions: [
        'ec2:DeregisterImage',
        'ec2:DeleteSnapshot',
        'ec2:ModifyImageAttribute',
        'ec2:ModifySnapshotAttribute',
        'ec2:EnableImageDeprecation',
      ],
      resources: [images, snapshots],
      conditions: tagPresent(`aws:ResourceTag/${BUILD_ID_TAG}`),
    }),
    new iam.PolicyStatement({
      sid: 'DescribeEc2',
      actions: [...EC2_DESCRIBE_ACTIONS],
      resources: ['*'],
    }),
  ];
}
