/**
 * Cleanup: the compensation path of a failed build. Walks the build state's `created` log in reverse (region
 * copies, then the source AMI with its snapshots, then the builder instance), then sweeps for resources tagged
 * with this build that a crashed stage created without recording (e.g. RunInstances succeeded, Lambda died).
 * Best-effort and idempotent: every action's outcome goes into the report, NotFound counts as already gone,
 * and one failed action does not stop the others.
 */
import {
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  type EC2Client,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { redactText as redact } from '../../../core/plan/sensitive.ts';
import { isAmiBuild } from '../../../core/plan/typed.ts';
import { awsErrorCode, isNotFoundAwsError } from '../../lib/aws-errors.ts';
import { loadBuildContext } from '../../lib/build-context.ts';
import type { BuildState, CreatedResource, StepError } from '../../lib/build-state.ts';
import { deleteAllVersions, oneShotKeyFor } from '../../lib/sealed-values.ts';
import type { BaseDeps } from '../../lib/stage-deps.ts';
import { TAG_BUILD_ID, TAG_BUILD_INDEX } from '../../lib/tags.ts';
import { type ErrorCleanupDeps, runErrorCleanupProvisioner } from './error-cleanup.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export type CleanupOutcome = 'removed' | 'already-gone' | 'failed' | 'ran';

export interface CleanupStep {
  readonly action:
    | 'error-cleanup-provisioner'
    | 'deregister-image'
    | 'delete-snapshot'
    | 'terminate-instance'
    | 'delete-object';
  readonly target: string;
  readonly region?: string;
  readonly outcome: CleanupOutcome;
  readonly message?: string;
}

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

async function attempt(
  steps: CleanupStep[],
  step: Omit<CleanupStep, 'outcome' | 'message'>,
  call: () => Promise<unknown>,
): Promise<void> {
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
}

async function removeImage(
  ec2: EC2Client,
  steps: CleanupStep[],
  region: string,
  imageId: string,
  known: readonly string[],
) {
  let snapshots = [...known];
  try {
    const out = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
    for (const m of out.Images?.[0]?.BlockDeviceMappings ?? []) {
      if (m.Ebs?.SnapshotId && !snapshots.includes(m.Ebs.SnapshotId)) snapshots.push(m.Ebs.SnapshotId);
    }
  } catch {
    snapshots = [...known]; // the image may be gone already; delete the snapshots we know of
  }
  await attempt(steps, { action: 'deregister-image', target: imageId, region }, () =>
    ec2.send(new DeregisterImageCommand({ ImageId: imageId })),
  );
  for (const snapshotId of snapshots) {
    await attempt(steps, { action: 'delete-snapshot', target: snapshotId, region }, () =>
      ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId })),
    );
  }
}

function tagFilters(state: BuildState) {
  return [
    { Name: `tag:${TAG_BUILD_ID}`, Values: [state.buildId] },
    { Name: `tag:${TAG_BUILD_INDEX}`, Values: [String(state.index)] },
  ];
}

/** Resources tagged with this build but missing from `created` (a stage died between create and return). */
async function sweep(
  deps: Pick<BaseDeps, 'ec2For'>,
  state: BuildState,
  regions: readonly string[],
): Promise<CreatedResource[]> {
  const found: CreatedResource[] = [];
  const known = new Set(state.created.map((c) => ('id' in c ? c.id : c.key)));
  for (const region of regions) {
    const ec2 = deps.ec2For(region);
    try {
      const out = await ec2.send(new DescribeInstancesCommand({ Filters: tagFilters(state) }));
      for (const r of out.Reservations ?? []) {
        for (const i of r.Instances ?? []) {
          if (i.InstanceId && !known.has(i.InstanceId) && i.State?.Name !== 'terminated') {
            found.push({ kind: 'instance', region, id: i.InstanceId });
          }
        }
      }
      const images = await ec2.send(new DescribeImagesCommand({ Owners: ['self'], Filters: tagFilters(state) }));
      for (const i of images.Images ?? []) {
        if (i.ImageId && !known.has(i.ImageId)) found.push({ kind: 'image', region, id: i.ImageId });
      }
    } catch {
      // The sweep is a safety net; the recorded resources are what cleanup must not miss.
    }
  }
  return found;
}

/** Base dependencies; with `ssmFor` and `presign` Cleanup also runs the error-cleanup-provisioner. */
export type CleanupDeps = BaseDeps & Partial<Omit<ErrorCleanupDeps, keyof BaseDeps>>;

export async function cleanupBuild(
  deps: CleanupDeps,
  input: { state: BuildState; error?: StepError },
): Promise<FailedBuildResult> {
  const { state } = input;
  let secrets: readonly string[] = [];
  const regions = new Set<string>(state.region ? [state.region] : []);
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
  for (const i of state.images) regions.add(i.region);
  // This build's one-shot scripts (the sealed values are shared by the execution's builds: Finalize removes them).
  const oneShots = oneShotKeyFor(state.buildId, `b${state.index}-`);
  const removedOneShots = await deleteAllVersions(deps, oneShots).catch(() => 0);
  if (removedOneShots > 0) {
    steps.push({ action: 'delete-object', target: `s3://${deps.artifactsBucket}/${oneShots}*`, outcome: 'removed' });
  }

  const extra = await sweep(deps, state, [...regions]);
  const all = [...state.created, ...extra];
  for (const resource of [...all].reverse()) {
    if (resource.kind === 'image') {
      const known = state.images.find((i) => i.imageId === resource.id)?.snapshotIds ?? [];
      await removeImage(deps.ec2For(resource.region), steps, resource.region, resource.id, known);
    } else if (resource.kind === 'instance') {
      await attempt(steps, { action: 'terminate-instance', target: resource.id, region: resource.region }, () =>
        deps.ec2For(resource.region).send(new TerminateInstancesCommand({ InstanceIds: [resource.id] })),
      );
    } else {
      await attempt(steps, { action: 'delete-object', target: `s3://${resource.bucket}/${resource.key}` }, () =>
        deps.s3.send(new DeleteObjectCommand({ Bucket: resource.bucket, Key: resource.key })),
      );
    }
  }
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
