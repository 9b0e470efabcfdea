/**
 * Finalize: after every build of the execution ended (succeeded, or failed and cleaned up), write the Packer
 * manifest, record each succeeded build's AMIs in the image registry and move its `latest` channel (registry.ts),
 * record each build's outcome on the build record, remove the staged files (shared by all builds of
 * the execution, so only here) and return the execution result. Finalize itself always completes (the manifest
 * and record must be written); the ASL then fails the execution with `Kiln.BuildFailed` and `summary` as its cause
 * when any build failed, as Packer exits non-zero.
 */
import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import * as z from 'zod/mini';
import { type BuildRecord, buildOutcomeUpdate, parseBuildRecord } from '../../../aws/build-records.ts';
import { buildEndedEvent, type KilnEvent } from '../../../aws/events-contract.ts';
import { describeFailures, type EmitResult, type EventSink } from '../../../aws/events-emitter.ts';
import { registryTemplateName } from '../../../aws/image-registry-records.ts';
import type { RegistryContext } from '../../../aws/image-registry-store.ts';
import { TransientError } from '../../../core/errors.ts';
import { amiArtifactId, type ManifestFile } from '../../../core/manifest/manifest.ts';
import { redactValue } from '../../../core/template/sensitive.ts';
import { awsCall } from '../../lib/aws-errors.ts';
import {
  type BuildState,
  buildStateSchema,
  driverSchema,
  type ImageRecord,
  type StateOf,
} from '../../lib/build-state.ts';
import { baseImageOf, filesPrefix, loadStoredPlan, manifestKeyFor } from '../../lib/plan-store.ts';
import { deleteBuildSecrets, loadSealedValues } from '../../lib/sealed-values.ts';
import type { BaseDeps } from '../../lib/stage-deps.ts';
import { amisByRegion, executionManifest, runUuid } from './manifest.ts';
import { type RegisteredArtifact, registerBuild } from './registry.ts';
import type { ScheduleFailureDeps, ScheduleHealth } from './schedule-failures.ts';

const succeededSchema = z.object({
  name: z.string(),
  status: z.literal('SUCCEEDED'),
  state: buildStateSchema,
});
const failedSchema = z.object({
  name: z.string(),
  index: z.optional(z.number()),
  driver: z.optional(z.union([driverSchema, z.string()])),
  status: z.literal('FAILED'),
  error: z.string(),
  cause: z.optional(z.string()),
  cleanup: z.optional(z.unknown()),
});

export const finalizeInputSchema = z.object({
  buildId: z.string(),
  planKey: z.string(),
  executionName: z.string(),
  results: z.array(z.union([succeededSchema, failedSchema])),
});
export type FinalizeInput = z.infer<typeof finalizeInputSchema>;

/** The AMIs a succeeded build made (the manifest's artifacts); other drivers' artifacts join here. */
export function builtImages(state: BuildState): readonly ImageRecord[] {
  return state.driver === 'ec2-ami' ? state.images : [];
}

/**
 * A build's artifact id as the build result and record show it: Packer's amazon id for AMIs; for a docker build
 * that pushed to ECR, the first pushed repository pinned by digest (`<uri>@sha256:…`, what ECS task definitions
 * and `docker pull` take), since the digest is the one immutable name of what was built. The manifest keeps
 * Packer's own docker id in `artifact_id` and lists the digests in `kiln_pushed_images`.
 */
export function artifactIdOf(state: BuildState): string {
  if (state.driver === 'agent') return state.agent?.artifacts[0]?.artifactId ?? '';
  if (state.driver === 'ec2-docker') {
    const first = state.pushed[0];
    return first ? `${first.repository}@${first.digest}` : '';
  }
  return amiArtifactId(amisByRegion(builtImages(state)));
}

/** An agent build's artifact as packer on the agent reported it (the first one: a build makes one artifact). */
function agentManifestPart(state: StateOf<'agent'>): { artifactId: string; files: ManifestFile[] } {
  const first = state.agent?.artifacts[0];
  return {
    artifactId: first?.artifactId ?? '',
    files: (first?.files ?? []).map((f) => ({
      name: f.name,
      size: f.size ?? 0,
      ...(f.key ? { kiln_uploaded: f.key } : {}),
    })),
  };
}

export interface BuildOutcome {
  readonly name: string;
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly artifactId?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly cleanup?: unknown;
  readonly notes?: string[];
  /** The image registry's record of it: artifact id and the `latest` channel parameter (AMI builds). */
  readonly registry?: { readonly artifactId: string; readonly channelParameter?: string };
}

export interface ExecutionResult {
  readonly buildId: string;
  readonly status: 'SUCCEEDED' | 'FAILED' | 'PARTIAL';
  readonly manifest: string;
  /** One line for people and for the execution's failure cause: `1 of 2 builds failed: web (Kiln.Timeout)`. */
  readonly summary: string;
  readonly builds: BuildOutcome[];
  /**
   * A scheduled build's schedule after this outcome: its failures in a row and whether Finalize disabled it
   * (`error` when that could not be checked; never a reason to fail the execution).
   */
  readonly schedule?: ScheduleHealth | { readonly schedule: string; readonly error: string };
  /**
   * Kiln events this Finalize could not deliver (`Kiln Channel Updated`, `Kiln Build Succeeded|Failed`), one line
   * each; absent when all were accepted. A notification never fails the execution: the handler logs these too.
   */
  readonly undeliveredEvents?: readonly string[];
}

/** Longest summary kept (a Fail state's cause is at most 32,768 characters; a line is what people read). */
const MAX_SUMMARY = 2_000;

export function summarize(builds: readonly BuildOutcome[]): string {
  const failed = builds.filter((b) => b.status === 'FAILED');
  if (failed.length === 0) return `${builds.length} of ${builds.length} builds succeeded`;
  const list = failed.map((b) => `${b.name} (${b.error ?? 'failed'})`).join(', ');
  const text = `${failed.length} of ${builds.length} builds failed: ${list}`;
  return text.length > MAX_SUMMARY ? `${text.slice(0, MAX_SUMMARY - 1)}…` : text;
}

export interface FinalizeDeps extends Pick<BaseDeps, 's3' | 'artifactsBucket' | 'now'> {
  readonly dynamo: DynamoDBClient;
  readonly buildsTable: string;
  /** The image registry (its table, and SSM per region for channel parameters). */
  readonly registry: RegistryContext;
  /**
   * Auto-disable of failing schedules; absent: scheduled builds are recorded, never disabled. The clients come on
   * first use, so only a failed scheduled build loads the Scheduler SDK (a chunk of its own).
   */
  readonly schedules?: Pick<ScheduleFailureDeps, 'group' | 'limit'> & {
    readonly clients: () => Promise<Pick<ScheduleFailureDeps, 'scheduler' | 'events'>>;
  };
  /** Kiln's events (aws/events-emitter.ts): the build's end and each `latest` it moved; absent: none. */
  readonly events?: EventSink;
}

const transient = (m: string, cause: unknown) => new TransientError(m, { cause });

async function deleteStagedFiles(deps: FinalizeDeps, buildId: string): Promise<void> {
  const prefix = filesPrefix(buildId);
  let token: string | undefined;
  do {
    const out = await deps.s3.send(
      new ListObjectsV2Command({
        Bucket: deps.artifactsBucket,
        Prefix: prefix,
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    const keys = (out.Contents ?? []).map((o) => o.Key).filter((k): k is string => !!k);
    if (keys.length > 0) {
      await deps.s3.send(
        new DeleteObjectsCommand({
          Bucket: deps.artifactsBucket,
          Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
        }),
      );
    }
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
}

export function overallStatus(builds: readonly BuildOutcome[]): ExecutionResult['status'] {
  const ok = builds.filter((b) => b.status === 'SUCCEEDED').length;
  if (ok === builds.length) return 'SUCCEEDED';
  return ok === 0 ? 'FAILED' : 'PARTIAL';
}

function registryOutcome(entry: RegisteredArtifact | undefined): Pick<BuildOutcome, 'registry'> {
  if (!entry) return {};
  const { artifactId, channelParameter } = entry;
  return { registry: { artifactId, ...(channelParameter ? { channelParameter } : {}) } };
}

export async function finalize(deps: FinalizeDeps, input: FinalizeInput): Promise<ExecutionResult> {
  const stored = await loadStoredPlan(deps.s3, deps.artifactsBucket, input.planKey).catch(() => undefined);
  // The plan holds no sensitive value; the values are read once more only to redact what Finalize writes (defence
  // in depth), then removed with every version, whatever happened to the builds.
  const secrets = stored?.sealed
    ? ((await loadSealedValues(deps, input.buildId).catch(() => undefined))?.values ?? [])
    : [];
  await deleteBuildSecrets(deps, input.buildId).catch(() => undefined);
  const now = deps.now();
  const registered = new Map<string, RegisteredArtifact>();
  const emitted: EmitResult[] = [];
  if (stored) {
    // The template's registry name comes from where the build's template was uploaded (one owner, aws/).
    const template = registryTemplateName(stored.template.key);
    const registry = {
      ...deps.registry,
      ...(deps.events ? { events: deps.events } : {}),
      origin: { by: 'pipeline' as const, buildId: input.buildId },
    };
    for (const r of input.results) {
      if (r.status !== 'SUCCEEDED') continue;
      const entry = await awsCall('recording the artifact in the image registry', transient, () =>
        registerBuild(
          registry,
          template,
          r.state,
          now.toISOString(),
          baseImageOf(stored, r.state.index),
          deps.artifactsBucket,
        ),
      );
      if (entry) registered.set(r.name, entry);
      if (entry?.events) emitted.push(entry.events);
    }
  }
  const rawOutcomes: BuildOutcome[] = input.results.map((r) =>
    r.status === 'SUCCEEDED'
      ? {
          name: r.name,
          status: r.status,
          artifactId: artifactIdOf(r.state),
          ...(r.state.notes ? { notes: r.state.notes } : {}),
          ...registryOutcome(registered.get(r.name)),
        }
      : { name: r.name, status: r.status, error: r.error, cause: r.cause ?? '', cleanup: r.cleanup },
  );
  const outcomes = redactValue(rawOutcomes, secrets);
  const rawManifest = executionManifest(
    stored?.plan.runUuid ?? runUuid(input.executionName),
    input.results.flatMap((r) =>
      r.status === 'SUCCEEDED'
        ? [
            {
              name: r.name,
              images: builtImages(r.state),
              ...(r.state.driver === 'ec2-docker'
                ? { artifactId: r.state.packerArtifactId ?? '', pushed: r.state.pushed }
                : {}),
              ...(r.state.driver === 'agent' ? agentManifestPart(r.state) : {}),
              finishedAt: now,
              build: stored?.plan.builds[r.state.index],
            },
          ]
        : [],
    ),
  );
  const manifest = redactValue(rawManifest, secrets);
  const manifestKey = manifestKeyFor(input.buildId);
  await awsCall('writing the manifest', transient, () =>
    deps.s3.send(
      new PutObjectCommand({
        Bucket: deps.artifactsBucket,
        Key: manifestKey,
        Body: JSON.stringify(manifest, null, 2),
        ContentType: 'application/json',
      }),
    ),
  );
  const status = overallStatus(outcomes);
  const updated = await awsCall('recording the build outcome', transient, () =>
    deps.dynamo.send(
      new UpdateItemCommand({
        TableName: deps.buildsTable,
        // The record as stored tells whether a schedule started the build (its failures may disable it).
        ReturnValues: 'ALL_NEW',
        ...buildOutcomeUpdate(input.buildId, {
          status,
          finishedAt: now.toISOString(),
          manifestKey,
          outcomes: outcomes.map((o) => ({
            name: o.name,
            status: o.status,
            ...(o.artifactId ? { artifactId: o.artifactId } : {}),
            ...(o.error ? { error: o.error } : {}),
          })),
        }),
      }),
    ),
  );
  // Staged scripts are no longer needed by any build; failing to delete them must not fail the execution.
  await deleteStagedFiles(deps, input.buildId).catch(() => undefined);
  const record = recordOf(updated.Attributes);
  const schedule = await scheduleAfter(deps, record, status, now.toISOString());
  const result: ExecutionResult = {
    buildId: input.buildId,
    status,
    manifest: `s3://${deps.artifactsBucket}/${manifestKey}`,
    summary: summarize(outcomes),
    builds: outcomes,
    ...(schedule ? { schedule } : {}),
  };
  if (deps.events) {
    const template = record?.template ?? stored?.template;
    if (template) {
      emitted.push(
        await deps.events([
          buildEndedEventOf(result, {
            executionName: input.executionName,
            template,
            record,
            manifest: { bucket: deps.artifactsBucket, key: manifestKey },
            finishedAt: now.toISOString(),
          }),
        ]),
      );
    }
  }
  const undelivered = emitted.flatMap((e) => describeFailures(e.failed));
  return { ...result, ...(undelivered.length > 0 ? { undeliveredEvents: undelivered } : {}) };
}

/** The stored record as Finalize's update returned it; undefined when it is not one this code reads. */
function recordOf(item: Parameters<typeof parseBuildRecord>[0] | undefined): BuildRecord | undefined {
  if (!item) return undefined;
  try {
    return parseBuildRecord(item);
  } catch {
    return undefined;
  }
}

/**
 * `Kiln Build Succeeded | Failed` from the execution's result (outcomes already redacted of sensitive values;
 * causes trimmed by the builder).
 */
export function buildEndedEventOf(
  result: ExecutionResult,
  r: {
    readonly executionName: string;
    readonly template: { readonly bucket: string; readonly key: string; readonly versionId?: string };
    readonly record: BuildRecord | undefined;
    readonly manifest: { readonly bucket: string; readonly key: string };
    readonly finishedAt: string;
  },
): KilnEvent {
  const { bucket, key, versionId } = r.template;
  return buildEndedEvent({
    buildId: result.buildId,
    executionName: r.executionName,
    template: { bucket, key, ...(versionId ? { versionId } : {}) },
    registryTemplate: registryTemplateName(key),
    ...(r.record ? { trigger: r.record.trigger, startedAt: r.record.createdAt } : {}),
    ...(r.record?.schedule ? { schedule: r.record.schedule } : {}),
    status: result.status,
    finishedAt: r.finishedAt,
    summary: result.summary,
    manifest: { ...r.manifest, uri: `s3://${r.manifest.bucket}/${r.manifest.key}` },
    builds: result.builds.map((b) => ({
      name: b.name,
      status: b.status,
      ...(b.artifactId ? { artifactId: b.artifactId } : {}),
      ...(b.registry ? { registryArtifactId: b.registry.artifactId } : {}),
      ...(b.registry?.channelParameter ? { channelParameter: b.registry.channelParameter } : {}),
      ...(b.error ? { error: b.error } : {}),
      ...(b.cause ? { cause: b.cause } : {}),
    })),
  });
}

/** For a scheduled build: count its schedule's failures in a row and disable it at the limit (schedule-failures.ts). */
export async function scheduleAfter(
  deps: FinalizeDeps,
  record: BuildRecord | undefined,
  status: ExecutionResult['status'],
  at: string,
): Promise<ExecutionResult['schedule']> {
  // No record this code reads: nothing to say about a schedule.
  if (!record || !deps.schedules) return undefined;
  if (!record.schedule) return undefined;
  if (status === 'SUCCEEDED') {
    return { schedule: record.schedule, consecutiveFailures: 0, limit: deps.schedules.limit, disabled: false };
  }
  try {
    const { checkScheduleHealth } = await import('./schedule-failures.ts');
    const { group, limit } = deps.schedules;
    return await checkScheduleHealth(
      { ...(await deps.schedules.clients()), group, limit, dynamo: deps.dynamo, buildsTable: deps.buildsTable },
      { buildId: record.buildId, schedule: record.schedule, template: record.template, status, at },
    );
  } catch (err) {
    return { schedule: record.schedule, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}
