/**
 * Step Functions payloads are capped at 256 KB; a planned build travels as Map item input, so each one must
 * stay well under the cap (200 KB leaves room for the state's own fields). Large content belongs in S3.
 */
import { LimitExceededError } from '../errors.ts';
import type { BuildPlan, PlannedBuild } from './types.ts';

export const MAX_BUILD_BYTES = 200 * 1024;

export function plannedBuildBytes(build: PlannedBuild): number {
  return Buffer.byteLength(JSON.stringify(build), 'utf8');
}

/** One message per build over the limit; empty when the plan fits. */
export function planSizeProblems(plan: BuildPlan, limit = MAX_BUILD_BYTES): string[] {
  return plan.builds.flatMap((build) => {
    const bytes = plannedBuildBytes(build);
    return bytes < limit
      ? []
      : [
          `Build "${build.name}" is too large for a Step Functions payload: its plan entry is ${Math.ceil(bytes / 1024)} KB, the limit is ${Math.floor(limit / 1024)} KB. Move large inline content (inline scripts, file content, user_data) into files.`,
        ];
  });
}

export function assertPlanFits(plan: BuildPlan, limit = MAX_BUILD_BYTES): void {
  const problems = planSizeProblems(plan, limit);
  if (problems.length > 0) throw new LimitExceededError(problems.join('\n'));
}
