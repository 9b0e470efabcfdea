import type { Stack } from 'aws-cdk-lib';

/** Shared by the permission modules (kept apart so they do not import each other). */

/** The resources permission scopes point at. ARNs may be CloudFormation tokens. */
export interface PermissionTargets {
  readonly stack: Stack;
  readonly artifactsBucketArn: string;
  readonly templateBucketArn: string;
  readonly dataKeyArn: string;
  readonly buildsTableArn: string;
  /** The image registry's table (infra/constructs/image-registry.ts). */
  readonly registryTableArn: string;
  readonly builderRoleArn: string;
  readonly builderVpcId: string;
  readonly provisionLogGroupArn: string;
  /** Which secrets and parameters templates may read (PrepareBuild's resolvers). */
  readonly secretScope: SecretScope;
  /**
   * Customer-managed KMS keys templates may use for EBS encryption (`kiln:kmsKeyArns`); the `build-kms-keys`
   * scope grants exactly these, only through EC2. @default [] (AWS-managed keys only)
   */
  readonly buildKmsKeyArns?: readonly string[];
  /**
   * The key new ECR repositories are encrypted with (`KilnStackProps.ecr.encryption: 'KMS'`: the stack's data key);
   * `ecr-write` then holds the grant ECR needs on it. @default - AES256, no key
   */
  readonly ecrKmsKeyArn?: string;
  /** The SSM parameter naming the docker builder host's AMI (LaunchBuilder reads it). */
  readonly dockerHostAmiParameter: string;
  /**
   * The schedule group and the role its schedules assume (`schedule-control`: Finalize disables a failing
   * schedule, which UpdateSchedule authorizes as passing that role). Absent: the scope grants nothing.
   */
  readonly schedules?: { readonly groupName: string; readonly startRoleArn: string };
  /** The agent gateway's table (infra/constructs/agent-gateway.ts): `agent-table`. */
  readonly agentTableArn: string;
  /** The fleet bound's table (infra/constructs/fleet-table.ts): `fleet-table`. */
  readonly fleetTableArn: string;
  /**
   * The executions of the build state machine (`arn:…:execution:<name>:*`): `fleet-executions`. Known only once
   * the state machine exists, which needs the functions first, so the stack attaches that scope's statements in a
   * policy of their own (a role's default policy would close a dependency cycle). Absent: the scope grants nothing.
   */
  readonly buildExecutionsArn?: string;
}

/**
 * The deployer's allowance for templates: names starting with `prefix` (Secrets Manager name, or SSM parameter
 * path without its leading slash), and, when `tag` is set, only resources carrying that tag.
 */
export interface SecretScope {
  readonly prefix: string;
  readonly tag?: { readonly key: string; readonly value: string };
}

/** Tag every EC2 resource Kiln creates carries; mutating EC2 and SSM calls are conditioned on it. */
export const BUILD_ID_TAG = 'kiln:build-id';

/**
 * Read-only EC2 calls. EC2 Describe* actions support no resource-level permissions, so `*` is the only
 * resource IAM accepts for them.
 */
export const EC2_DESCRIBE_ACTIONS = [
  'ec2:DescribeInstances',
  'ec2:DescribeInstanceStatus',
  'ec2:DescribeImages',
  'ec2:DescribeImageAttribute',
  'ec2:DescribeSnapshots',
  'ec2:DescribeVolumes',
  'ec2:DescribeTags',
  'ec2:DescribeSubnets',
  'ec2:DescribeRouteTables',
  'ec2:DescribeVpcEndpoints',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeInstanceTypes',
  'ec2:DescribeRegions',
] as const;

export const tagPresent = (key: string) => ({ Null: { [key]: 'false' } });
