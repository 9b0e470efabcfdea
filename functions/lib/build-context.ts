/**
 * Loads what a stage needs about its build: the stored plan, the planned build, its configuration and the
 * source region. Cached per container through the plan cache.
 */
import type { PlannedBuild } from '../../core/plan/types.ts';
import type { BuildState } from './build-state.ts';
import { type Config, str } from './config.ts';
import { loadStoredPlan, plannedBuild, type StoredPlan } from './plan-store.ts';
import type { BaseDeps } from './stage-deps.ts';
import type { KilnTagContext } from './tags.ts';

export interface BuildContext {
  readonly stored: StoredPlan;
  readonly build: PlannedBuild;
  readonly config: Config;
  readonly region: string;
  readonly secrets: readonly string[];
  readonly tagContext: KilnTagContext;
}

export async function loadBuildContext(
  deps: Pick<BaseDeps, 's3' | 'artifactsBucket' | 'homeRegion'>,
  state: BuildState,
) {
  const stored = await loadStoredPlan(deps.s3, deps.artifactsBucket, state.planKey);
  const build = plannedBuild(stored, state.index);
  const region = state.region ?? str(build.config, 'region') ?? deps.homeRegion;
  const context: BuildContext = {
    stored,
    build,
    config: build.config,
    region,
    secrets: stored.sensitiveValues,
    tagContext: {
      buildId: state.buildId,
      executionName: state.executionName,
      template: `s3://${stored.template.bucket}/${stored.template.key}`,
      index: state.index,
      name: state.name,
    },
  };
  return context;
}
