/**
 * The cleanup table: one handler per kind of created resource (`CreatedResource['kind']`). Each driver group
 * contributes the entries for what its stages create (functions/common/cleanup/common-entries.ts: S3 objects;
 * functions/ec2-host/cleanup-entries.ts: builder instances; functions/ec2-ami/cleanup-entries.ts: images with
 * their snapshots), and the Cleanup stage composes them into a `CleanupTable` (functions/common/cleanup/table.ts),
 * which must name every kind: a kind without a handler does not compile. New drivers add their kinds (ECR tags,
 * containers, agent leases) to the schema and an entry to their group, without touching the Cleanup stage.
 */

import type { SSMClient } from '@aws-sdk/client-ssm';
import { TAG_BUILD_ID, TAG_BUILD_INDEX } from '../../aws/tags.ts';
import { awsErrorCode, isNotFoundAwsError } from './aws-errors.ts';
import type { BuildState, CreatedKind, CreatedOf } from './build-state.ts';
import type { BaseDeps } from './stage-deps.ts';

export type CleanupOutcome = 'removed' | 'already-gone' | 'failed' | 'ran';

export type CleanupAction =
  | 'error-cleanup-provisioner'
  | 'deregister-image'
  | 'delete-snapshot'
  | 'terminate-instance'
  | 'delete-object'
  | 'remove-containers'
  /** A docker build's build id tag in ECR (functions/ec2-docker/ecr-cleanup-entries.ts). */
  | 'remove-image-tag'
  /** An agent build's job still queued or leased (functions/common/cleanup/agent-jobs.ts). */
  | 'cancel-agent-job';

export interface CleanupStep {
  readonly action: CleanupAction;
  readonly target: string;
  readonly region?: string;
  readonly outcome: CleanupOutcome;
  readonly message?: string;
}

/** What a handler works with during one Cleanup run. */
export interface CleanupRun {
  readonly deps: Pick<BaseDeps, 's3' | 'ec2For'> & {
    /** Commands on a builder host (removing a docker build's containers); absent: those steps fail, reported. */
    readonly ssmFor?: (region: string) => SSMClient;
    readonly sleep?: (ms: number) => Promise<void>;
  };
  readonly state: BuildState;
  /**
   * Runs one removal and reports it as a step: done = removed, NotFound = already-gone, any other error = failed
   * (reported, never thrown, so the other removals still run).
   */
  readonly attempt: (
    step: Pick<CleanupStep, 'action' | 'target' | 'region'>,
    call: () => Promise<unknown>,
  ) => Promise<void>;
}

export interface CleanupHandler<R> {
  /** Removes one recorded (or swept) resource, one `attempt` per action; idempotent. */
  readonly remove: (run: CleanupRun, resource: R) => Promise<void>;
  /**
   * Resources of this kind tagged with the build but missing from `created` (a stage died between creating and
   * returning), in one region; may throw (the sweep is a safety net and skips what it cannot read).
   */
  readonly sweep?: (run: CleanupRun, region: string) => Promise<R[]>;
}

export type CleanupTable = { readonly [K in CreatedKind]: CleanupHandler<CreatedOf<K>> };
/** What one driver group contributes to the table. */
export type CleanupEntries = Partial<CleanupTable>;

/** Steps are appended to `steps` as the run goes. */
export function cleanupRun(deps: CleanupRun['deps'], state: BuildState, steps: CleanupStep[]): CleanupRun {
  return {
    deps,
    state,
    attempt: async (step, call) => {
      try {
        await call();
        steps.push({ ...step, outcome: 'removed' });
      } catch (err) {
        if (isNotFoundAwsError(err)) steps.push({ ...step, outcome: 'already-gone' });
        else
          steps.push({
            ...step,
            outcome: 'failed',
            message: `${awsErrorCode(err)}: ${err instanceof Error ? err.message : String(err)}`,
          });
      }
    },
  };
}

/** The tags every resource of a build carries (the sweep's filter). */
export function buildTagFilters(state: Pick<BuildState, 'buildId' | 'index'>) {
  return [
    { Name: `tag:${TAG_BUILD_ID}`, Values: [state.buildId] },
    { Name: `tag:${TAG_BUILD_INDEX}`, Values: [String(state.index)] },
  ];
}
