/**
 * ECR statements for docker builds: the pipeline's scopes (`ecr-read`, `ecr-write`, `ecr-login`,
 * functions/registry.ts) and the builder role's push (builder-identity.ts). Pushing is allowed only to
 * repositories tagged `kiln:managed=true`: what Kiln creates carries it (functions/lib/ecr/ensure.ts), a
 * deployer opts an existing repository in by tagging it. The builder host runs template code with its role,
 * so an untagged repository of the account (a production image, say) stays out of every template's reach.
 * ECR supports `aws:ResourceTag/<key>` on its repository resource type (IAM service authorization reference).
 */
import type { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { TAG_MANAGED, TAG_MANAGED_VALUE } from '../../aws/tags.ts';
import type { PermissionTargets } from './permission-basics.ts';

/** docker push: layer checks and uploads, then the manifest. */
export const ECR_PUSH_ACTIONS = [
  'ecr:BatchCheckLayerAvailability',
  'ecr:InitiateLayerUpload',
  'ecr:UploadLayerPart',
  'ecr:CompleteLayerUpload',
  'ecr:PutImage',
] as const;
/** docker pull (a build may start from an image an earlier Kiln build pushed). */
export const ECR_PULL_ACTIONS = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] as const;

/** Every repository of this account in the stack's region (names are chosen by templates at run time). */
export function ecrRepositoriesArn(stack: Stack): string {
  return stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: '*' });
}

export const managedRepository = { StringEquals: { [`aws:ResourceTag/${TAG_MANAGED}`]: TAG_MANAGED_VALUE } };

/** GetAuthorizationToken has no resource (`*` only), then push and pull on Kiln-managed repositories. */
export function ecrPushStatements(stack: Stack, sidPrefix = ''): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: `${sidPrefix}EcrLogin`,
      actions: ['ecr:GetAuthorizationToken'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: `${sidPrefix}PushPullKilnManagedRepositories`,
      actions: [...ECR_PUSH_ACTIONS, ...ECR_PULL_ACTIONS],
      resources: [ecrRepositoriesArn(stack)],
      conditions: managedRepository,
    }),
  ];
}

export function ecrReadStatements(t: PermissionTargets): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'ReadPushedImages',
      actions: ['ecr:DescribeImages', 'ecr:DescribeRepositories'],
      resources: [ecrRepositoriesArn(t.stack)],
    }),
  ];
}

/** A docker base image's digest (PrepareBuild): DescribeImages on the repositories builder hosts may pull, only. */
export function ecrDigestStatements(t: PermissionTargets): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'ReadBaseImageDigests',
      actions: ['ecr:DescribeImages'],
      resources: [ecrRepositoriesArn(t.stack)],
      conditions: managedRepository,
    }),
  ];
}

export function ecrWriteStatements(t: PermissionTargets): iam.PolicyStatement[] {
  const repositories = ecrRepositoriesArn(t.stack);
  const statements = [
    new iam.PolicyStatement({
      sid: 'ReadRepositories',
      actions: ['ecr:DescribeRepositories', 'ecr:ListTagsForResource'],
      resources: [repositories],
    }),
    new iam.PolicyStatement({
      sid: 'CreateKilnManagedRepositories',
      actions: ['ecr:CreateRepository'],
      resources: [repositories],
      conditions: { StringEquals: { [`aws:RequestTag/${TAG_MANAGED}`]: TAG_MANAGED_VALUE } },
    }),
    new iam.PolicyStatement({
      // Tag-on-create is also authorized as TagResource; only the kiln:managed tag's value is constrained, so this
      // role could mark another repository as Kiln's: it runs no template code (RunHostStep renders, never runs).
      sid: 'TagKilnManagedRepositoriesOnCreate',
      actions: ['ecr:TagResource'],
      resources: [repositories],
      conditions: { StringEquals: { [`aws:RequestTag/${TAG_MANAGED}`]: TAG_MANAGED_VALUE } },
    }),
    new iam.PolicyStatement({
      sid: 'LifecycleOfKilnManagedRepositories',
      actions: ['ecr:PutLifecyclePolicy'],
      resources: [repositories],
      conditions: managedRepository,
    }),
  ];
  if (t.ecrKmsKeyArn) {
    // ECR encrypts a repository with a customer key through a grant it creates for the caller at CreateRepository.
    statements.push(
      new iam.PolicyStatement({
        sid: 'GrantEcrKeyToRepositories',
        actions: ['kms:CreateGrant', 'kms:RetireGrant', 'kms:DescribeKey'],
        resources: [t.ecrKmsKeyArn],
        conditions: { StringEquals: { 'kms:ViaService': `ecr.${t.stack.region}.amazonaws.com` } },
      }),
    );
  }
  return statements;
}

export function ecrLoginStatements(t: PermissionTargets): iam.PolicyStatement[] {
  return ecrPushStatements(t.stack);
}

/** A failed build's build id tag (BatchDeleteImage by tag untags; it deletes only an image left with no tag). */
export function ecrCleanupStatements(t: PermissionTargets): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'RemoveBuildTagsFromKilnManagedRepositories',
      actions: ['ecr:BatchDeleteImage'],
      resources: [ecrRepositoriesArn(t.stack)],
      conditions: managedRepository,
    }),
  ];
}
