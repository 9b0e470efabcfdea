/**
 * The typed build state that travels through one Map iteration of the build state machine. Every stage takes
 * `{ state, wait? }` and returns the same shape, so the ASL stays a plain chain with `ResultPath: "$"`.
 * It is small (ids and timestamps, never scripts or configuration): the plan lives in S3.
 *
 * The state is a union on `driver`: a core every driver has (ids, the `created` log, notes), the EC2 builder
 * host's part (region, instance, provisioner cursor) shared by `ec2-ami` and `ec2-docker`, and AMI-only fields
 * on `ec2-ami`. Stages narrow it with `requireDriver` / `requireEc2Host` before reading a driver's fields. The
 * ASL reads `$.state.name`, `index`, `driver` and `provision.{index,count,commandId}` by JSONPath: those names
 * are a contract with statemachines/.
 *
 * `created` is the ordered log of what exists because of this build; a stage appends an entry as soon as the
 * resource exists (before waiting on it), and cleanup walks it in reverse, like Packer's step cleanup.
 */
import * as z from 'zod/mini';
import { agentArtifactSchema } from '../../aws/agent-gateway-contract.ts';
import type { Driver } from '../../core/builders/driver.ts';

const nonNegativeInt = () => z.int().check(z.minimum(0));
const nonEmpty = () => z.string().check(z.minLength(1));

export const driverSchema = z.enum(['ec2-ami', 'ec2-docker', 'agent']);
/** The planner's drivers (core owns the concept) and this schema agree, both ways, or this does not compile. */
export const SCHEMA_DRIVERS_MATCH_CORE: [Driver, z.infer<typeof driverSchema>] extends [
  z.infer<typeof driverSchema>,
  Driver,
]
  ? true
  : never = true;

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

/** Every kind has a cleanup handler (functions/common/cleanup/table.ts; a missing one does not compile). */
export const createdResourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('instance'), region: z.string(), id: z.string() }),
  z.object({ kind: z.literal('image'), region: z.string(), id: z.string() }),
  z.object({ kind: z.literal('s3-object'), bucket: z.string(), key: z.string() }),
  /** The build's containers on a docker builder host (removed over SSM before the host is terminated). */
  z.object({ kind: z.literal('docker-containers'), region: z.string(), instanceId: z.string() }),
  /** The build id tag a docker build pushes to one of its account's ECR repositories (removed if the build fails). */
  z.object({
    kind: z.literal('ecr-image'),
    region: z.string(),
    registryId: z.string(),
    repository: z.string(),
    tag: z.string(),
  }),
]);
export type CreatedResource = z.infer<typeof createdResourceSchema>;
export type CreatedKind = CreatedResource['kind'];
export type CreatedOf<K extends CreatedKind> = Extract<CreatedResource, { kind: K }>;
/** The kinds as the schema lists them (tests check each has a cleanup handler). */
export const CREATED_KINDS: readonly CreatedKind[] = createdResourceSchema.def.options.flatMap(
  (o) => o.shape.kind.def.values,
);

/** The `created` entries of one kind, in creation order. */
export function createdOf<K extends CreatedKind>(state: BuildState, kind: K): CreatedOf<K>[] {
  return state.created.filter((r): r is CreatedOf<K> => r.kind === kind);
}

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

/** What every driver's state has. */
const coreShape = {
  buildId: nonEmpty(),
  executionName: nonEmpty(),
  planKey: nonEmpty(),
  index: nonNegativeInt(),
  name: z.string(),
  created: z._default(z.array(createdResourceSchema), []),
  /** Build start, for the manifest's build_time. */
  startedAt: z.optional(z.string()),
  /** Provisioner notes (skipped breakpoint, shell-local output truncated) shown in the result. */
  notes: z.optional(z.array(z.string())),
};

/** The EC2 builder host (ec2-host/ stages): set by LaunchBuilder, shared by the AMI and docker drivers. */
const ec2HostShape = {
  /** Source region of the build (template `region`), set by LaunchBuilder. */
  region: z.optional(z.string()),
  instanceId: z.optional(z.string()),
  launchedAt: z.optional(z.string()),
  provision: z.optional(provisionStateSchema),
};

export const ec2AmiStateSchema = z.object({
  ...coreShape,
  ...ec2HostShape,
  driver: z.literal('ec2-ami'),
  stopRequestedAt: z.optional(z.string()),
  /** The resolved source AMI (in `region`), set by LaunchBuilder: the artifact's lineage in the image registry. */
  sourceImageId: z.optional(z.string()),
  images: z._default(z.array(imageRecordSchema), []),
});
/** One image a docker build published to ECR, as ECR reports it after the push (RecordImages reads it back). */
export const dockerImageRecordSchema = z.object({
  /** Repository URI without tag (`<account>.dkr.ecr.<region>.amazonaws.com/<name>`). */
  repository: z.string(),
  region: z.string(),
  /** Tags the build pushed (the template's, then the build id). */
  tags: z.array(z.string()),
  /** `sha256:...` of the pushed manifest, from ECR DescribeImages. */
  digest: z.string(),
});
export type DockerImageRecord = z.infer<typeof dockerImageRecordSchema>;

/**
 * The docker driver: the EC2 host's fields, where `provision` walks the host steps (0 = prepare, 1..n = the
 * template's provisioners, n+1 = finish; core/docker/host.ts renders each), and the images it published.
 */
export const ec2DockerStateSchema = z.object({
  ...coreShape,
  ...ec2HostShape,
  driver: z.literal('ec2-docker'),
  pushed: z._default(z.array(dockerImageRecordSchema), []),
  /** The id Packer would give the build's artifact (`my-python-app` for the reference template), for the manifest. */
  packerArtifactId: z.optional(z.string()),
});
/**
 * Self-hosted agents: the outcome of the job an agent ran (the gateway's SendTaskSuccess output, contract
 * `AgentTaskOutput`), placed here by the ASL task's ResultPath.
 */
export const agentStateSchema = z.object({
  ...coreShape,
  driver: z.literal('agent'),
  agent: z.optional(
    z.object({
      jobId: z.string(),
      agentId: z.string(),
      attempt: z.number(),
      artifacts: z.array(agentArtifactSchema),
    }),
  ),
});

export const buildStateSchema = z.discriminatedUnion('driver', [
  ec2AmiStateSchema,
  ec2DockerStateSchema,
  agentStateSchema,
]);
export type BuildState = z.infer<typeof buildStateSchema>;
export type StateOf<D extends Driver> = Extract<BuildState, { driver: D }>;
export type Ec2AmiState = StateOf<'ec2-ami'>;
export type Ec2DockerState = StateOf<'ec2-docker'>;
export type AgentState = StateOf<'agent'>;
/** The drivers that run on an EC2 builder host. */
export type Ec2HostState = Ec2AmiState | Ec2DockerState;

/** The fields every state has, as PrepareBuild knows them. */
export type CoreFields = Pick<BuildState, 'buildId' | 'executionName' | 'planKey' | 'index' | 'name'>;

/** The state a build starts its Map iteration with (PrepareBuild returns one per build). */
export function initialState(core: CoreFields, driver: Driver): BuildState {
  switch (driver) {
    case 'ec2-ami':
      return { ...core, driver, images: [], created: [] };
    case 'ec2-docker':
      return { ...core, driver, pushed: [], created: [] };
    case 'agent':
      return { ...core, driver, created: [] };
  }
}

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
/** What a stage of one driver (or of the EC2 host) returns: the payload with its narrowed state. */
export type PayloadOf<S extends BuildState> = Omit<StagePayload, 'state'> & { readonly state: S };

export function record<S extends BuildState>(state: S, resource: CreatedResource): S {
  const same = (r: CreatedResource) => JSON.stringify(r) === JSON.stringify(resource);
  return state.created.some(same) ? state : { ...state, created: [...state.created, resource] };
}

/** The state of a stage that only one driver runs; a build of another driver here is a wiring error. */
export function requireDriver<D extends Driver>(state: BuildState, driver: D): StateOf<D> {
  if (state.driver !== driver) {
    throw new Error(`build ${state.name}: this stage is for the ${driver} driver, not ${state.driver}`);
  }
  return state as StateOf<D>;
}

export function isEc2Host(state: BuildState): state is Ec2HostState {
  return state.driver === 'ec2-ami' || state.driver === 'ec2-docker';
}

/** The state of an ec2-host/ stage (a builder instance): the AMI or the docker driver. */
export function requireEc2Host(state: BuildState): Ec2HostState {
  if (!isEc2Host(state)) {
    throw new Error(
      `build ${state.name}: this stage needs an EC2 builder host, and the ${state.driver} driver has none`,
    );
  }
  return state;
}

/** The source region of a launched build; stages after LaunchBuilder may rely on it. */
export function sourceRegion(state: Ec2HostState): string {
  if (!state.region) throw new Error(`build ${state.name}: region is not set (LaunchBuilder did not run)`);
  return state.region;
}

export function requireInstance(state: Ec2HostState): string {
  if (!state.instanceId) throw new Error(`build ${state.name}: no builder instance in the build state`);
  return state.instanceId;
}
