/**
 * The ec2-docker driver's builder host: which AMI it starts from and how it is sized. One owner for the functions
 * (LaunchBuilder), the CDK app (the env it sets, the ssm:GetParameter it grants) and the local harness (which
 * instances get a container engine).
 */

/**
 * The ECS-optimized Amazon Linux 2023 AMI, from its public SSM parameter: Docker and the SSM agent preinstalled,
 * patched by AWS. A deployer can name another parameter (stack prop `dockerHostAmiParameter`) holding an AMI with
 * `docker` on the agent's PATH.
 */
export const ECS_AL2023_AMI_PARAMETER = '/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id';

/** Env of LaunchBuilder (functions/registry.ts KILN_ENV): the host AMI parameter and instance type. */
export const DOCKER_HOST_ENV = {
  amiParameter: 'KILN_DOCKER_HOST_AMI_PARAMETER',
  instanceType: 'KILN_DOCKER_HOST_INSTANCE_TYPE',
} as const;

/** The ARN of an SSM parameter by name: AWS's public ones (`/aws/service/...`) have no account. */
export function parameterArn(name: string, partition: string, region: string, account: string): string {
  const path = name.replace(/^\/+/, '');
  const owner = path.startsWith('aws/service/') ? '' : account;
  return `arn:${partition}:ssm:${region}:${owner}:parameter/${path}`;
}

/** 2 vCPU, 4 GiB: pulls, pip installs and commits of typical application images without swapping. */
export const DEFAULT_DOCKER_HOST_INSTANCE_TYPE = 't3.medium';
/** Root volume (gp3, encrypted): base image, layers of the committed image and its push. */
export const DEFAULT_DOCKER_HOST_VOLUME_GIB = 30;

export interface DockerHostSettings {
  readonly amiParameter: string;
  readonly instanceType: string;
  readonly volumeGiB: number;
}
