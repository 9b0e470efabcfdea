/**
 * Narrowing a planned build or component to its typed configuration, once, where a stage starts: the wrong
 * kind is a clear error naming what was found and what the stage runs, never a silently empty read.
 */
import { DriverUnavailableError, ProvisionerFailedError } from '../errors.ts';
import type { DockerConfig } from '../builders/docker.ts';
import type { PostProcessorType } from '../postprocessors/registry.ts';
import type { ProvisionerType } from '../provisioners/registry.ts';
import type {
  PlannedAmiBuild,
  PlannedBuild,
  PlannedOtherBuild,
  PlannedPostProcessor,
  PlannedPostProcessorOf,
  PlannedProvisioner,
  PlannedProvisionerOf,
} from './types.ts';

export function isAmiBuild(build: PlannedBuild): build is PlannedAmiBuild {
  return build.driver === 'ec2-ami' && build.builderType === 'amazon-ebs';
}

/** The build as an amazon-ebs build (driver ec2-ami); throws Kiln.DriverUnavailable for any other. */
export function amiBuild(build: PlannedBuild): PlannedAmiBuild {
  if (isAmiBuild(build)) return build;
  throw new DriverUnavailableError(
    `Build "${build.name}" is a ${build.builderType} build (driver ${build.driver}); this stage runs amazon-ebs ` +
      'builds (driver ec2-ami)',
  );
}

/** A docker build (driver ec2-docker): its configuration as the docker builder's shape decoded it at plan time. */
export type PlannedDockerHostBuild = PlannedOtherBuild & { readonly driver: 'ec2-docker'; readonly config: DockerConfig };

export function isDockerBuild(build: PlannedBuild): build is PlannedDockerHostBuild {
  return build.driver === 'ec2-docker' && build.builderType === 'docker';
}

/** The build as a docker build (driver ec2-docker); throws Kiln.DriverUnavailable for any other. */
export function dockerBuild(build: PlannedBuild): PlannedDockerHostBuild {
  if (isDockerBuild(build)) return build;
  throw new DriverUnavailableError(
    `Build "${build.name}" is a ${build.builderType} build (driver ${build.driver}); this stage runs docker builds ` +
      '(driver ec2-docker)',
  );
}

export function isProvisioner<T extends ProvisionerType>(p: PlannedProvisioner, type: T): p is PlannedProvisionerOf<T> {
  return p.type === type;
}

/** The provisioner as one of `type`, its configuration typed; throws Kiln.ProvisionerFailed for another type. */
export function provisionerOf<T extends ProvisionerType>(p: PlannedProvisioner, type: T): PlannedProvisionerOf<T> {
  if (isProvisioner(p, type)) return p;
  throw new ProvisionerFailedError(`Provisioner #${p.index} is a ${p.type} provisioner, not ${type}`);
}

export function isPostProcessor<T extends PostProcessorType>(
  pp: PlannedPostProcessor,
  type: T,
): pp is PlannedPostProcessorOf<T> {
  return pp.type === type;
}
