/**
 * The repositories a docker build publishes, as the pipeline sees them: the same post-processor plan the finish
 * step renders (core/docker/host.ts `dockerPostPlan`), for the same build id and registry. The stage that renders
 * finish and the stages around the push (ensure before, RecordImages after) all take the context from
 * `postPlanContext`, so they can never disagree on a repository or a tag.
 */

import { dockerPostPlan, type PostPlanContext, publishedOf } from '../../../core/docker/host.ts';
import type { PublishedRepository } from '../../../core/docker/postprocess.ts';
import { dockerBuild } from '../../../core/plan/typed.ts';
import type { BuildContext } from '../build-context.ts';
import type { Ec2DockerState } from '../build-state.ts';

/**
 * Build id, and the registry a bare repository name resolves to: this account's ECR in the region the build runs
 * in (the builder host's region once launched, as loadBuildContext reports it). Kiln's publish rule is on.
 */
export function postPlanContext(ctx: BuildContext, state: Ec2DockerState, accountId: string): PostPlanContext {
  return { buildId: state.buildId, registry: { account: accountId, region: ctx.region } };
}

/** Packer's id for the build's artifact (the first artifact of the plan that has one: `my-python-app`). */
export function packerArtifactIdOf(ctx: BuildContext, state: Ec2DockerState, accountId: string): string | undefined {
  return dockerPostPlan(dockerBuild(ctx.build), postPlanContext(ctx, state, accountId)).artifacts.find((a) => a.id)?.id;
}

export function publishedRepositories(
  ctx: BuildContext,
  state: Ec2DockerState,
  accountId: string,
): readonly PublishedRepository[] {
  return publishedOf(dockerBuild(ctx.build), postPlanContext(ctx, state, accountId));
}
