/**
 * Loads what a stage needs about its build: the stored plan, the planned build (its configuration typed once
 * narrowed: `amiBuild(ctx.build)`) and the source region. Cached per container through the plan cache.
 */

import type { KilnTagContext } from '../../aws/tags.ts';
import { isAmiBuild } from '../../core/plan/typed.ts';
import type { PlannedBuild, PlannedProvisioner } from '../../core/plan/types.ts';
import { type SealTable, unsealValue } from '../../core/template/sensitive.ts';
import { type BuildState, isEc2Host } from './build-state.ts';
import { loadStoredPlan, plannedBuild, type StoredPlan } from './plan-store.ts';
import { EMPTY_SEALED, loadSealedValues } from './sealed-values.ts';
import type { BaseDeps } from './stage-deps.ts';

export interface BuildContext {
  readonly stored: StoredPlan;
  readonly build: PlannedBuild;
  /** Where the build runs: the state's once launched, else the plan's `region` (ec2-ami), else the home region. */
  readonly region: string;
  /** The build's sensitive values, for redaction of anything this stage shows (read from the sealed object). */
  readonly secrets: readonly string[];
  /** Resolves the placeholders of provisioner configuration (RunProvisioner, error-cleanup only). */
  readonly table: SealTable;
  readonly tagContext: KilnTagContext;
}

export async function loadBuildContext(
  deps: Pick<BaseDeps, 's3' | 'artifactsBucket' | 'homeRegion'>,
  state: BuildState,
  /** Only stages that render provisioners or show their output read the sealed values (and may, by IAM). */
  opts: { readonly withSecrets?: boolean } = {},
) {
  const stored = await loadStoredPlan(deps.s3, deps.artifactsBucket, state.planKey);
  const build = plannedBuild(stored, state.index);
  const launched = isEc2Host(state) ? state.region : undefined;
  const region = launched ?? (isAmiBuild(build) ? build.ami.region : undefined) ?? deps.homeRegion;
  const sealed = stored.sealed && opts.withSecrets ? await loadSealedValues(deps, state.buildId) : EMPTY_SEALED;
  const context: BuildContext = {
    stored,
    build,
    region,
    secrets: sealed.values,
    table: sealed.table,
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

/** A provisioner with its real values, for rendering only: the result must never be stored, logged or thrown. */
export function unsealedProvisioner<P extends PlannedProvisioner>(ctx: BuildContext, p: P): P {
  return unsealValue(p, ctx.table);
}
