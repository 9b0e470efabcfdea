/**
 * The typed build state that travels through one Map iteration of the build state machine. Every stage takes
 * `{ state, wait? }` and returns the same shape, so the ASL stays a plain chain with `ResultPath: "$"`.
 * It is small (ids and timestamps, never scripts or configuration): the plan lives in S3.
 *
 * `created` is the ordered log of what exists because of this build; a stage appends an entry as soon as the
 * resource exists (before waiting on it), and cleanup walks it in reverse, like Packer's step cleanup.
 */
import * as z from 'zod/mini';

const nonNegativeInt = () => z.int().check(z.minimum(0));
const nonEmpty = () => z.string().check(z.minLength(1));

export const driverSchema = z.enum(['ec2-ami', 'ec2-docker', 'agent']);

export const imageRecordSchema = z.object({
  region: z.string(),
  imageId: z.string(),
  snapshotIds: z.array(z.string()),
  /** ISO time the image (or copy) was requested; the wait deadline counts from here. */
  requestedAt: z.string(),
  available: z.boolean(),
  /** True for region copies (the source-region image is false). */
  copy: z.boolean(),
});
export type ImageRecord = z.infer<typeof imageRecordSchema>;

export const createdResourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('instance'), region: z.string(), id: z.string() }),
  z.object({ kind: z.literal('image'), region: z.string(), id: z.string() }),
  z.object({ kind: z.literal('s3-object'), bucket: z.string(), key: z.string() }),
]);
export type CreatedResource = z.infer<typeof createdResourceSchema>;

export const provisionStateSchema = z.object({
  /** Index of the provisioner to run next (== count when all ran). */
  index: nonNegativeInt(),
  count: nonNegativeInt(),
  /** 0 for the first try; max_retries allows attempts 0..max_retries. */
  attempt: nonNegativeInt(),
  /** Set once `pause_before` has been waited for the current provisioner. */
  paused: z.optional(z.boolean()),
  commandId: z.optional(z.string()),
  sentAt: z.optional(z.string()),
});
export type ProvisionState = z.infer<typeof provisionStateSchema>;

export const buildStateSchema = z.object({
  buildId: nonEmpty(),
  executionName: nonEmpty(),
  planKey: nonEmpty(),
  index: nonNegativeInt(),
  name: z.string(),
  driver: driverSchema,
  /** Source region of the build (template `region`), set by LaunchBuilder. */
  region: z.optional(z.string()),
  instanceId: z.optional(z.string()),
  launchedAt: z.optional(z.string()),
  stopRequestedAt: z.optional(z.string()),
  provision: z.optional(provisionStateSchema),
  images: z._default(z.array(imageRecordSchema), []),
  created: z._default(z.array(createdResourceSchema), []),
  /** Build start, for the manifest's build_time. */
  startedAt: z.optional(z.string()),
  /** Provisioner notes (skipped breakpoint, shell-local output truncated) shown in the result. */
  notes: z.optional(z.array(z.string())),
});
export type BuildState = z.infer<typeof buildStateSchema>;

export const waitStatusSchema = z.object({
  done: z.boolean(),
  waitSeconds: nonNegativeInt(),
  /** check-command: the provisioner failed and has retries left; the ASL sends it again. */
  retry: z.optional(z.boolean()),
});
export type WaitStatus = z.infer<typeof waitStatusSchema>;

/** Step Functions' error shape (Catch with ResultPath `$.error`); stages may also return it (see distribute). */
export const stepErrorSchema = z.object({ Error: z.string(), Cause: z.optional(z.string()) });
export type StepError = z.infer<typeof stepErrorSchema>;

export const stagePayloadSchema = z.object({
  state: buildStateSchema,
  wait: z.optional(waitStatusSchema),
  /**
   * A failure reported as data instead of thrown, when the stage must hand back what it created before failing
   * (a thrown error would lose the new state); the ASL routes a payload with `error` to Cleanup.
   */
  error: z.optional(stepErrorSchema),
});
export type StagePayload = z.infer<typeof stagePayloadSchema>;

export function record(state: BuildState, resource: CreatedResource): BuildState {
  const same = (r: CreatedResource) => JSON.stringify(r) === JSON.stringify(resource);
  return state.created.some(same) ? state : { ...state, created: [...state.created, resource] };
}

/** The source region of a launched build; stages after LaunchBuilder may rely on it. */
export function sourceRegion(state: BuildState): string {
  if (!state.region) throw new Error(`build ${state.name}: region is not set (LaunchBuilder did not run)`);
  return state.region;
}

export function requireInstance(state: BuildState): string {
  if (!state.instanceId) throw new Error(`build ${state.name}: no builder instance in the build state`);
  return state.instanceId;
}
