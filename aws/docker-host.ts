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

/** Env of LaunchBuilder: the parameter (default above) and the instance type of docker builder hosts. */
export const DOCKER_HOST_ENV = {
  amiParameter: 'KILN_DOCKER_HOST_AMI_PARAMETER',
  instanceType: 'KILN_DOCKER_HOST_INSTANCE_TYPE',
  volumeGiB: 'KILN_DOCKER_HOST_VOLUME_GIB',
} as const;

/** 2 vCPU, 4 GiB: pulls, pip installs and commits of typical application images without swapping. */
export const DEFAULT_DOCKER_HOST_INSTANCE_TYPE = 't3.medium';
/** Root volume (gp3, encrypted): base image, layers of the committed image and its push. */
export const DEFAULT_DOCKER_HOST_VOLUME_GIB = 30;

export interface DockerHostSettings {
  readonly amiParameter: string;
  readonly instanceType: string;
  readonly volumeGiB: number;
}
