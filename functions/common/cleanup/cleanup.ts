/**
 * Cleanup: the compensation path of a failed build. Walks the build state's `created` log in reverse (region
 * copies, then the source AMI with its snapshots, then the builder instance), then sweeps for resources tagged
 * with this build that a crashed stage created without recording (e.g. RunInstances succeeded, Lambda died).
 * Each resource goes to the handler of its kind in the cleanup table (table.ts; each driver group contributes
 * its kinds). Best-effort and idempotent: every action's outcome goes into the report, NotFound counts as
 * already gone, and one failed action does not stop the others.
 */
import { isAmiBuild } from '../../../core/plan/typed.ts';
import { redactText as redact } from '../../../core/template/sensitive.ts';
import { loadBuildContext } from '../../lib/build-context.ts';
import {
  type BuildState,
  CREATED_KINDS,
  type CreatedResource,
  isEc2Host,
  type StepError,
} from '../../lib/build-state.ts';
import {
  type CleanupHandler,
  type CleanupRun,
  type CleanupStep,
  type CleanupTable,
  cleanupRun,
} from '../../lib/cleanup-table.ts';
import { deleteAllVersions, oneShotKeyFor } from '../../lib/sealed-values.ts';
import type { BaseDeps } from '../../lib/stage-deps.ts';
import type { CancelAgentJobs } from './agent-jobs.ts';
import { type ErrorCleanupDeps, runErrorCleanupProvisioner } from './error-cleanup.ts';
import { CLEANUP_TABLE } from './table.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export type { CleanupOutcome, CleanupStep } from '../../lib/cleanup-table.ts';

export interface CleanupReport {
  readonly steps: CleanupStep[];
  readonly complete: boolean;
}

export interface FailedBuildResult {
  readonly name: string;
  readonly index: number;
  readonly driver: string;
  readonly status: 'FAILED';
  readonly error: string;
  readonly cause: string;
  readonly cleanup: CleanupReport;
}

/** Lambda errors reach Catch as `{"errorType","errorMessage","trace"}` JSON in Cause; show the message only. */
export function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (parsed && typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: a plain message (local runs, States.* errors)
  }
  return cause;
}

/**
 * The handler of a resource's kind. TypeScript cannot correlate `table[resource.kind]` with `resource` (a union on
 * both sides); `CleanupTable`'s mapped type is what ties each kind to a handler of that kind.
 */
function removeWith(table: CleanupTable, run: CleanupRun, resource: CreatedResource): Promise<void> {
  const remove = table[resource.kind].remove as CleanupHandler<CreatedResource>['remove'];
  return remove(run, resource);
}

/** Resources tagged with this build but missing from `created`, per region, in the schema's kind order. */
async function sweep(table: CleanupTable, run: CleanupRun, regions: readonly string[]): Promise<CreatedResource[]> {
  const found: CreatedResource[] = [];
  for (const region of regions) {
    for (const kind of CREATED_KINDS) {
      const find = table[kind].sweep as CleanupHandler<CreatedResource>['sweep'];
      if (!find) continue;
      try {
        found.push(...(await find(run, region)));
      } catch {
        // The sweep is a safety net; the recorded resources are what cleanup must not miss.
      }
    }
  }
  return found;
}

/**
 * Base dependencies; with `ssmFor` and `presign` Cleanup also runs the error-cleanup-provisioner, with
 * `cancelAgentJobs` it cancels an agent build's open job.
 */
export type CleanupDeps = BaseDeps &
  Partial<Omit<ErrorCleanupDeps, keyof BaseDeps>> & { readonly cancelAgentJobs?: CancelAgentJobs };

export async function cleanupBuild(
  deps: CleanupDeps,
  input: { state: BuildState; error?: StepError },
  table: CleanupTable = CLEANUP_TABLE,
): Promise<FailedBuildResult> {
  const { state } = input;
  let secrets: readonly string[] = [];
  const regions = new Set<string>(isEc2Host(state) && state.region ? [state.region] : []);
  const steps: CleanupStep[] = [];
  try {
    const ctx = await loadBuildContext(deps, state, { withSecrets: true });
    if (deps.ssmFor && deps.presign) {
      const errorCleanupDeps: ErrorCleanupDeps = {
        ...deps,
        ssmFor: deps.ssmFor,
        presign: deps.presign,
        waitSeconds: deps.waitSeconds ?? 120,
        sleep: deps.sleep ?? sleep,
      };
      const ran = await runErrorCleanupProvisioner(errorCleanupDeps, ctx, state);
      if (ran) {
        const message = ran.message ? redact(ran.message, ctx.secrets) : undefined;
        steps.push({
          action: 'error-cleanup-provisioner',
          target: ran.target,
          outcome: ran.outcome,
          ...(message ? { message } : {}),
        });
      }
    }
    secrets = ctx.secrets;
    regions.add(ctx.region);
    if (isAmiBuild(ctx.build)) for (const r of ctx.build.ami.copyRegions) regions.add(r);
  } catch {
    // The plan may be unreadable (that may be the failure); clean up what the state records.
  }
  if (state.driver === 'ec2-ami') for (const i of state.images) regions.add(i.region);
  // This build's one-shot scripts (the sealed values are shared by the execution's builds: Finalize removes them).
  const oneShots = oneShotKeyFor(state.buildId, `b${state.index}-`);
  const removedOneShots = await deleteAllVersions(deps, oneShots).catch(() => 0);
  if (removedOneShots > 0) {
    steps.push({ action: 'delete-object', target: `s3://${deps.artifactsBucket}/${oneShots}*`, outcome: 'removed' });
  }

  if (state.driver === 'agent' && deps.cancelAgentJobs) {
    steps.push(
      ...(await deps.cancelAgentJobs(state.buildId, state.name).catch((error: unknown) => [
        {
          action: 'cancel-agent-job' as const,
          target: state.name,
          outcome: 'failed' as const,
          message: error instanceof Error ? error.message : String(error),
        },
      ])),
    );
  }
  const run = cleanupRun(deps, state, steps);
  const extra = await sweep(table, run, [...regions]);
  for (const resource of [...state.created, ...extra].reverse()) await removeWith(table, run, resource);
  return {
    name: state.name,
    index: state.index,
    driver: state.driver,
    status: 'FAILED',
    error: input.error?.Error ?? 'States.TaskFailed',
    cause: redact(causeMessage(input.error?.Cause), secrets),
    cleanup: { steps, complete: steps.every((s) => s.outcome !== 'failed') },
  };
}
