/**
 * Fake stage handlers for running statemachines/build.asl.json in aws-local-stepfunctions. They follow the
 * stage contracts (same payload types as functions/lib/build-state.ts) over a tiny in-memory "world", and use
 * the real polling back-off, so the ASL is exercised the way the real handlers drive it.
 */
import type { StateMachine } from 'aws-local-stepfunctions';
import { notATemplate } from '../../aws/trigger-contract.ts';
import type { Driver } from '../../core/builders/driver.ts';
import { KilnError, type KilnErrorName } from '../../core/errors.ts';
import { type BuildOutcome, overallStatus, summarize } from '../../functions/common/finalize/finalize.ts';
import type { PreparedBuild } from '../../functions/common/prepare-build/prepare-build.ts';
import {
  type BuildState,
  type Ec2AmiState,
  type Ec2DockerState,
  type Ec2HostState,
  initialState,
  requireDriver,
  requireEc2Host,
  type StagePayload,
  type StepError,
} from '../../functions/lib/build-state.ts';
import { nextWaitSeconds } from '../../functions/lib/polling.ts';

export interface FakeBuild {
  readonly name: string;
  readonly driver: 'ec2-ami' | 'ec2-docker' | 'agent';
  readonly provisioners?: number;
  /** Fail this task state (by ASL state name) with the error name. */
  readonly failAt?: { readonly state: string; readonly error: KilnErrorName };
  /** Simulated seconds until the source AMI is available. */
  readonly imageSeconds?: number;
  readonly regions?: readonly string[];
  /** Distribute reports a failure as data after this many copies. */
  readonly distributeFailsAfter?: number;
  /** Provisioner index that has a pause_before. */
  readonly pauseAt?: number;
  /** Provisioner index whose command fails this many times before succeeding (max_retries). */
  readonly flakyAt?: { readonly index: number; readonly failures: number };
  /** The Cleanup Lambda itself crashes (after the build failed). */
  readonly cleanupCrashes?: boolean;
  /** RecordPrepareFailure itself crashes (after PrepareBuild failed). */
  readonly recordPrepareFailureCrashes?: boolean;
  /** AcquireSlot/ReleaseSlot calls for this build refused by Lambda (Lambda.TooManyRequestsException) first. */
  readonly throttled?: { readonly AcquireSlot?: number; readonly ReleaseSlot?: number };
}

/** Lambda refusing an invocation past its concurrency, as Step Functions names it. */
class ThrottledError extends Error {
  override readonly name = 'Lambda.TooManyRequestsException';
}

/** The fleet slots the fake AcquireSlot/ReleaseSlot keep (the real semaphore's contract, in memory). */
export interface FakeFleet {
  readonly cap: number;
  /** Holders (`<execution>#<build>`) holding a slot now. */
  readonly held: Set<string>;
  /** The most slots ever held at once. */
  maxHeld: number;
  /** Every AcquireSlot call that was refused (the build waited). */
  refusals: number;
  /** Holders in release order, and releases that found nothing held. */
  readonly released: string[];
  emptyReleases: number;
}

/** The library's JSON value type (not exported by name). */
export type JSONValue = Parameters<StateMachine['run']>[0];

class FakeError extends KilnError {
  override readonly name: KilnErrorName;
  constructor(name: KilnErrorName, message: string) {
    super(message);
    this.name = name;
  }
}

export interface World {
  readonly handlers: Record<string, (input: JSONValue) => Promise<JSONValue>>;
  readonly calls: { state: string; build: string }[];
  readonly cleanups: { build: string; error: StepError; created: BuildState['created'] }[];
  /** Simulated seconds per build, advanced by every wait the ASL is told to do. */
  readonly clock: Map<string, number>;
  readonly fleet: FakeFleet;
  /** What Finalize returned (the execution's output, or the input of its Fail state). */
  readonly finalized: { output?: { buildId: string; status: string; summary: string; builds: unknown[] } };
  /** What RecordPrepareFailure was given (PrepareBuild failed for good). */
  readonly prepareFailures: unknown[];
}

const MIN = 15;

export function makeWorld(builds: readonly FakeBuild[], fleetCap = 100): World {
  const fleet: FakeFleet = { cap: fleetCap, held: new Set(), maxHeld: 0, refusals: 0, released: [], emptyReleases: 0 };
  const byName = new Map(builds.map((b) => [b.name, b]));
  const finalized: World['finalized'] = {};
  const calls: World['calls'] = [];
  const prepareFailures: unknown[] = [];
  const throttles = new Map<string, number>();
  const throttle = (state: 'AcquireSlot' | 'ReleaseSlot', build: string) => {
    const key = `${state}#${build}`;
    const done = throttles.get(key) ?? 0;
    if (done < (byName.get(build)?.throttled?.[state] ?? 0)) {
      throttles.set(key, done + 1);
      throw new ThrottledError(`Rate Exceeded. (${state} for ${build})`);
    }
  };
  const cleanups: World['cleanups'] = [];
  const clock = new Map<string, number>();
  const imageRequestedAt = new Map<string, number>();
  let counter = 0;

  // Each fake narrows as its real stage does: ec2-host/ stages take both EC2 drivers, the others their own.
  const narrowed =
    <S extends BuildState>(narrow: (state: BuildState) => S) =>
    (stateName: string, run: (p: StagePayload & { state: S }, b: FakeBuild) => StagePayload) =>
    async (input: JSONValue): Promise<JSONValue> => {
      const raw = input as unknown as StagePayload;
      const payload = { ...raw, state: narrow(raw.state) };
      const build = byName.get(payload.state.name);
      if (!build) throw new Error(`unknown build ${payload.state.name}`);
      calls.push({ state: stateName, build: build.name });
      if (build.failAt?.state === stateName)
        throw new FakeError(build.failAt.error, `${stateName} failed for ${build.name}`);
      const out = run(payload, build);
      // The Wait state that follows sleeps `waitSeconds`: advance the simulated clock by it.
      if (out.wait && !out.wait.done) clock.set(build.name, (clock.get(build.name) ?? 0) + out.wait.waitSeconds);
      return out as unknown as JSONValue;
    };
  const stage = narrowed<Ec2AmiState>((s) => requireDriver(s, 'ec2-ami'));
  const hostStage = narrowed<Ec2HostState>(requireEc2Host);
  const dockerStage = narrowed<Ec2DockerState>((s) => requireDriver(s, 'ec2-docker'));
  const now = (b: FakeBuild) => clock.get(b.name) ?? 0;
  const id = (prefix: string) => `${prefix}-${String(++counter).padStart(8, '0')}`;

  const handlers: World['handlers'] = {
    PrepareBuild: async (input) => {
      calls.push({ state: 'PrepareBuild', build: '*' });
      const failing = builds.find((b) => b.failAt?.state === 'PrepareBuild');
      if (failing?.failAt) throw new FakeError(failing.failAt.error, 'template.pkr.hcl:3:5: Unsupported argument');
      const { input: raw, executionName } = input as { input: { template?: { key?: string } }; executionName: string };
      if (!raw.template?.key) throw new Error('PrepareBuild got no template');
      // The real rule for which uploads are templates, so the ASL's skip branch is fed what PrepareBuild returns.
      const skipped = notATemplate(raw.template.key) ?? null;
      const out: PreparedBuild & { extra: string } = {
        buildId: 'kb-test',
        planKey: skipped ? '' : 'builds/kb-test/plan.json',
        builds: skipped
          ? []
          : builds.map((b, index) => ({
              index,
              name: b.name,
              driver: b.driver as Driver,
              // A driver the registry does not know (a newer plan, an older deployment) has no initial state of
              // its own: the core fields reach RouteDriver's Default.
              state: initialState(
                { buildId: 'kb-test', executionName, planKey: 'builds/kb-test/plan.json', index, name: b.name },
                b.driver,
              ) ?? {
                buildId: 'kb-test',
                executionName,
                planKey: '',
                index,
                name: b.name,
                driver: b.driver,
                created: [],
              },
            })),
        skipped,
        extra: 'x'.repeat(10),
      };
      return out as unknown as JSONValue;
    },
    LaunchBuilder: hostStage('LaunchBuilder', ({ state }, b) => {
      const instanceId = id('i');
      // A docker host's cursor walks prepare, the provisioners and finish.
      const count = (b.provisioners ?? 2) + (state.driver === 'ec2-docker' ? 2 : 0);
      return {
        state: {
          ...state,
          region: 'us-east-1',
          instanceId,
          provision: { index: 0, count, attempt: 0 },
          created: [...state.created, { kind: 'instance', region: 'us-east-1', id: instanceId }],
        },
        wait: { done: false, waitSeconds: MIN },
      };
    }),
    CheckManaged: hostStage('CheckManaged', ({ state }, b) => ({
      state,
      wait: now(b) >= 30 ? { done: true, waitSeconds: 0 } : { done: false, waitSeconds: MIN },
    })),
    RunProvisioner: stage('RunProvisioner', ({ state }, b) => {
      const p = state.provision as NonNullable<Ec2AmiState['provision']>;
      if (b.pauseAt === p.index && !p.paused)
        return { state: { ...state, provision: { ...p, paused: true } }, wait: { done: false, waitSeconds: 30 } };
      return {
        state: { ...state, provision: { ...p, commandId: id('cmd') } },
        wait: { done: false, waitSeconds: MIN },
      };
    }),
    RunHostStep: dockerStage('RunHostStep', ({ state }, b) => {
      const p = state.provision as NonNullable<Ec2DockerState['provision']>;
      if (b.pauseAt === p.index - 1 && !p.paused)
        return { state: { ...state, provision: { ...p, paused: true } }, wait: { done: false, waitSeconds: 30 } };
      const instanceId = state.instanceId as string;
      return {
        state: {
          ...state,
          provision: { ...p, commandId: id('cmd') },
          created:
            p.index === 0
              ? [...state.created, { kind: 'docker-containers', region: 'us-east-1', instanceId }]
              : state.created,
        },
        wait: { done: false, waitSeconds: MIN },
      };
    }),
    RecordImages: dockerStage('RecordImages', ({ state }) => ({
      state: {
        ...state,
        pushed: [
          {
            repository: '123456789012.dkr.ecr.us-east-1.amazonaws.com/my-python-app',
            region: 'us-east-1',
            tags: ['latest', state.buildId],
            digest: `sha256:${'a'.repeat(64)}`,
          },
        ],
      },
      wait: { done: true, waitSeconds: 0 },
    })),
    CheckCommand: hostStage('CheckCommand', ({ state }, b) => {
      const p = state.provision as NonNullable<Ec2HostState['provision']>;
      if (b.flakyAt?.index === p.index && p.attempt < b.flakyAt.failures) {
        return {
          state: { ...state, provision: { index: p.index, count: p.count, attempt: p.attempt + 1, paused: true } },
          wait: { done: false, waitSeconds: 0, retry: true },
        };
      }
      return {
        state: { ...state, provision: { index: p.index + 1, count: p.count, attempt: 0 } },
        wait: { done: true, waitSeconds: 0 },
      };
    }),
    CreateImage: stage('CreateImage', ({ state }, b) => {
      if (!state.stopRequestedAt)
        return { state: { ...state, stopRequestedAt: 'stopping' }, wait: { done: false, waitSeconds: MIN } };
      const imageId = id('ami');
      imageRequestedAt.set(b.name, now(b));
      return {
        state: {
          ...state,
          images: [
            { region: 'us-east-1', imageId, snapshotIds: [], requestedAt: 'now', available: false, copy: false },
          ],
          created: [...state.created, { kind: 'image', region: 'us-east-1', id: imageId }],
        },
        wait: { done: true, waitSeconds: MIN },
      };
    }),
    CheckImage: stage('CheckImage', ({ state }, b) => {
      const elapsed = now(b) - (imageRequestedAt.get(b.name) ?? 0);
      if (elapsed >= (b.imageSeconds ?? 0)) {
        return {
          state: { ...state, images: state.images.map((i) => ({ ...i, available: true, snapshotIds: ['snap-1'] })) },
          wait: { done: true, waitSeconds: 0 },
        };
      }
      return {
        state,
        wait: {
          done: false,
          waitSeconds: nextWaitSeconds({ elapsedSeconds: elapsed, minSeconds: MIN, deadlineSeconds: 3600 }),
        },
      };
    }),
    Terminate: hostStage('Terminate', (p) => ({ ...p, wait: { done: true, waitSeconds: 0 } })),
    Distribute: stage('Distribute', ({ state }, b) => {
      let next = state;
      for (const [n, region] of (b.regions ?? []).entries()) {
        if (b.distributeFailsAfter !== undefined && n >= b.distributeFailsAfter) {
          return { state: next, error: { Error: 'Kiln.DistributeFailed', Cause: `copying to ${region}: denied` } };
        }
        const imageId = id('ami');
        next = {
          ...next,
          images: [
            ...next.images,
            { region, imageId, snapshotIds: [], requestedAt: 'now', available: false, copy: true },
          ],
          created: [...next.created, { kind: 'image', region, id: imageId }],
        };
      }
      return { state: next, wait: { done: (b.regions ?? []).length === 0, waitSeconds: MIN } };
    }),
    CheckCopies: stage('CheckCopies', ({ state }) => ({
      state: { ...state, images: state.images.map((i) => ({ ...i, available: true })) },
      wait: { done: true, waitSeconds: 0 },
    })),
    PublishImage: stage('PublishImage', (p) => ({ ...p, wait: { done: true, waitSeconds: 0 } })),
    Cleanup: async (input) => {
      const { state, error } = input as unknown as { state: BuildState; error: StepError };
      calls.push({ state: 'Cleanup', build: state.name });
      cleanups.push({ build: state.name, error, created: state.created });
      if (byName.get(state.name)?.cleanupCrashes) throw new Error('cleanup crashed');
      const steps = [...state.created].reverse().map((c) => ({
        action: c.kind,
        target: 'id' in c ? c.id : 'key' in c ? c.key : 'instanceId' in c ? c.instanceId : c.tag,
        outcome: 'removed',
      }));
      return {
        name: state.name,
        index: state.index,
        driver: state.driver,
        status: 'FAILED',
        error: error.Error,
        cause: error.Cause ?? '',
        cleanup: { steps, complete: true },
      } as unknown as JSONValue;
    },
    AcquireSlot: async (input) => {
      const { executionArn, build } = input as { executionArn: string; build: string };
      if (!executionArn || !build) throw new Error('AcquireSlot got no holder');
      calls.push({ state: 'AcquireSlot', build });
      throttle('AcquireSlot', build);
      const failAt = byName.get(build)?.failAt;
      if (failAt?.state === 'AcquireSlot') throw new FakeError(failAt.error, `no fleet slot for ${build}`);
      const holder = `${executionArn}#${build}`;
      const acquired = fleet.held.has(holder) || fleet.held.size < fleet.cap;
      if (acquired) fleet.held.add(holder);
      else fleet.refusals++;
      fleet.maxHeld = Math.max(fleet.maxHeld, fleet.held.size);
      const at = new Date(0).toISOString();
      return {
        acquired,
        waitSeconds: acquired ? 0 : 30,
        held: fleet.held.size,
        cap: fleet.cap,
        since: at,
        reclaimed: 0,
      };
    },
    ReleaseSlot: async (input) => {
      const { executionArn, build } = input as { executionArn: string; build: string };
      calls.push({ state: 'ReleaseSlot', build });
      throttle('ReleaseSlot', build);
      const holder = `${executionArn}#${build}`;
      if (fleet.held.delete(holder)) fleet.released.push(holder);
      else fleet.emptyReleases++;
      // Its output is discarded by the state (ResultPath null): something unlike a build result shows a leak.
      return { released: true, leaked: 'ReleaseSlot output' };
    },
    RecordPrepareFailure: async (input) => {
      calls.push({ state: 'RecordPrepareFailure', build: '*' });
      prepareFailures.push(input);
      if (builds.some((b) => b.recordPrepareFailureCrashes)) throw new Error('the builds table is unreachable');
      return { buildId: 'kb-test', recorded: true };
    },
    Finalize: async (input) => {
      calls.push({ state: 'Finalize', build: '*' });
      const { results } = input as unknown as { results: BuildOutcome[] };
      // The real status and summary rules: the ASL's final Choice and Fail state read these two fields.
      finalized.output = {
        buildId: (input as { buildId: string }).buildId,
        status: overallStatus(results),
        summary: summarize(results),
        builds: results,
      };
      return finalized.output as unknown as JSONValue;
    },
  };
  // The docker driver file names its states apart (state names are unique in the composed definition); they run
  // the same functions, so the same fakes, recorded under the function's name.
  const docker: Record<string, string> = {
    DockerLaunchHost: 'LaunchBuilder',
    DockerCheckOnline: 'CheckManaged',
    DockerRunStep: 'RunHostStep',
    DockerCheckCommand: 'CheckCommand',
    DockerTerminate: 'Terminate',
    DockerRecordImages: 'RecordImages',
  };
  for (const [state, fn] of Object.entries(docker)) handlers[state] = handlers[fn] as World['handlers'][string];
  // The agent driver's one task (`lambda:invoke.waitForTaskToken`): the local handler stands for EnqueueAgentJob
  // and the gateway's later SendTaskSuccess/Failure together, so its result is the task output an agent's
  // completion sends, and its error the one SendTaskFailure names (or the state's own HeartbeatTimeout).
  handlers.AgentRunJob = async (input) => {
    const { Payload } = input as unknown as { Payload: { taskToken: string; state: BuildState } };
    const { state } = Payload;
    calls.push({ state: 'AgentRunJob', build: state.name });
    if (!Payload.taskToken) throw new Error('AgentRunJob got no task token');
    const build = byName.get(state.name);
    if (build?.failAt?.state === 'AgentRunJob') {
      throw new FakeError(build.failAt.error, `agent job of ${state.name} failed`);
    }
    return {
      jobId: `job-${state.index}`,
      agentId: 'ag-1',
      attempt: 1,
      artifacts: [{ builderId: 'packer.null', artifactId: 'Null', files: [] }],
    } as unknown as JSONValue;
  };
  return { handlers, calls, cleanups, clock, fleet, finalized, prepareFailures };
}
