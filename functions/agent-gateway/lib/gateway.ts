/**
 * The agent gateway's operations, one per route plus the pipeline's enqueue and the scheduled sweep. Each
 * authenticates first (agent secret or job credential; a revoked agent is refused here on its next request),
 * then makes its one conditional write through the store, then tells Step Functions (heartbeat, success,
 * failure) with the task token read from the job item: the token is never part of a response.
 */
import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type * as z from 'zod/mini';
import {
  type AcquireResponse,
  type AgentTaskOutput,
  type acquireRequestSchema,
  agentJobPayloadSchema,
  type CompleteRequest,
  completeRequestSchema,
  type completeResponseSchema,
  DOWNLOAD_URL_SECONDS,
  type deregisterResponseSchema,
  type EnqueueJobInput,
  type heartbeatRequestSchema,
  type heartbeatResponseSchema,
  type LeasedJob,
  parseAuthorization,
  type registerRequestSchema,
  type registerResponseSchema,
  TASK_ERROR_OF,
  UPLOAD_URL_SECONDS,
  type UploadsResponse,
  type uploadsRequestSchema,
} from '../../../aws/agent-gateway-contract.ts';
import type { AgentRecord } from '../../../aws/agent-gateway-records.ts';
import {
  type AgentStoreContext,
  acquireJob,
  completeJob,
  endJobAsGateway,
  enqueueJob,
  getAgent,
  getJob,
  heartbeatJob,
  type Lease,
  listActiveAgents,
  listExpiredLeases,
  listLeasedJobs,
  listQueuedJobs,
  registerAgent,
  requestCancel,
  requeueExpired,
  setAgentStatus,
  setWaitingReason,
  touchAgent,
} from '../../../aws/agent-gateway-store.ts';
import { agentArtifactKeyFor } from '../../../aws/store-layout.ts';
import { checkAgent, checkJobCredential } from '../../../core/agents/access.ts';
import { parseCredential } from '../../../core/agents/credentials.ts';
import { AgentGatewayError } from '../../../core/agents/errors.ts';
import type { FinalJobStatus, JobRecord } from '../../../core/agents/jobs.ts';
import { afterExpiry, isOnline, queueTimedOut } from '../../../core/agents/lease.ts';
import { explainNoMatch, formatLabels, mayDiagnose, missingLabels } from '../../../core/agents/matching.ts';
import type { KilnErrorName } from '../../../core/errors.ts';

export interface JobLogLine {
  readonly time: string;
  readonly line: string;
}
/** Where an agent's build output goes (the Lambda's CloudWatch log group, one record per line, keyed by job). */
export type JobLogSink = (
  job: { jobId: string; buildId: string; build: string; agentId: string },
  lines: readonly JobLogLine[],
) => void;

export interface GatewayDeps {
  readonly store: AgentStoreContext;
  readonly sfn: SFNClient;
  readonly log: JobLogSink;
  readonly sleep: (ms: number) => Promise<void>;
  /** How often a held acquire looks at the queue again. */
  readonly pollIntervalMs: number;
  /** A GET URL for an object of the artifacts bucket, valid `expiresInSeconds` (the job's bundle and variables). */
  readonly presignGet: (key: string, expiresInSeconds: number) => Promise<string>;
  /** A PUT URL for a key of the artifacts bucket, signed for exactly `bytes` (Content-Length), valid `expiresInSeconds`. */
  readonly presignPut: (key: string, bytes: number, expiresInSeconds: number) => Promise<string>;
}

type Out<S extends z.core.$ZodType> = z.infer<S>;

// --- Step Functions ---------------------------------------------------------------------------------------

/** Errors that mean the task is no longer waiting (execution aborted, timed out, already answered). */
const TASK_GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);
const isTaskGone = (error: unknown): boolean => error instanceof Error && TASK_GONE.has(error.name);

/** Step Functions caps `cause` at 32,768 characters. */
const cause = (text: string) => (text.length > 32_000 ? `${text.slice(0, 32_000)}…` : text);

/** Sends one SendTask* call; false when the task is gone (nothing left to tell, not an error of ours). */
async function tellTask(send: () => Promise<unknown>): Promise<boolean> {
  try {
    await send();
    return true;
  } catch (error) {
    if (isTaskGone(error)) return false;
    throw error;
  }
}

const failTask = (deps: GatewayDeps, taskToken: string, error: KilnErrorName, reason: string) =>
  tellTask(() => deps.sfn.send(new SendTaskFailureCommand({ taskToken, error, cause: cause(reason) })));

// --- authentication ---------------------------------------------------------------------------------------

export async function authenticateAgent(deps: GatewayDeps, authorization: string | undefined): Promise<AgentRecord> {
  const credential = parseAuthorization(authorization, 'agent');
  if (!credential) {
    throw new AgentGatewayError(
      'Unauthorized',
      'this route needs `Authorization: Kiln-Agent <agent id>.<secret>` (the credential `kiln-agent register` saved)',
    );
  }
  const agent = await getAgent(deps.store, credential.id);
  checkAgent(agent, credential.secret);
  return agent;
}

export interface JobHolder {
  readonly job: JobRecord;
  readonly holder: { jobId: string; agentId: string; credentialHash: string };
}

/** The job credential must be this job's current lease's, and the agent that holds it still active. */
export async function authenticateJob(
  deps: GatewayDeps,
  authorization: string | undefined,
  routeJobId: string,
): Promise<JobHolder> {
  const credential = parseAuthorization(authorization, 'job');
  if (!credential) {
    throw new AgentGatewayError(
      'Unauthorized',
      'this route needs `Authorization: Kiln-Job <job id>.<secret>` (the credential acquire returned with the job)',
    );
  }
  const job = await getJob(deps.store, routeJobId);
  checkJobCredential(job, routeJobId, credential);
  const agent = await getAgent(deps.store, job.agentId);
  if (agent?.status !== 'ACTIVE') {
    throw new AgentGatewayError(
      'AgentRevoked',
      `agent ${job.agentId} holding ${job.jobId} was ${agent ? agent.status.toLowerCase() : 'removed'}: its jobs are offered to other agents`,
    );
  }
  return { job, holder: { jobId: job.jobId, agentId: job.agentId, credentialHash: job.credentialHash } };
}

// --- routes -----------------------------------------------------------------------------------------------

export async function register(
  deps: GatewayDeps,
  request: Out<typeof registerRequestSchema>,
): Promise<Out<typeof registerResponseSchema>> {
  const token = parseCredential(request.token, 'registrationToken');
  if (!token) {
    throw new AgentGatewayError(
      'Unauthorized',
      'the registration token is not valid: pass the `rt-….…` token `kiln agents token create` printed',
    );
  }
  const { agent, credential } = await registerAgent(deps.store, {
    tokenId: token.id,
    tokenSecret: token.secret,
    name: request.name,
    capabilities: request.capabilities,
  });
  return {
    agentId: agent.agentId,
    credential,
    labels: [...agent.labels],
    heartbeatSeconds: deps.store.policy.heartbeatSeconds,
  };
}

export async function deregister(
  deps: GatewayDeps,
  authorization: string | undefined,
): Promise<Out<typeof deregisterResponseSchema>> {
  const agent = await authenticateAgent(deps, authorization);
  await setAgentStatus(deps.store, agent.agentId, 'DEREGISTERED');
  return { agentId: agent.agentId, status: 'DEREGISTERED' };
}

async function leasedJob(deps: GatewayDeps, lease: Lease): Promise<LeasedJob> {
  const { job } = lease;
  const payload = agentJobPayloadSchema.parse(JSON.parse(job.payload));
  // Presigned now, for this lease only: the job item keeps keys, the agent never learns the bucket's layout.
  const bundle = await deps.presignGet(payload.bundle.key, DOWNLOAD_URL_SECONDS);
  const variables = payload.variablesKey
    ? await deps.presignGet(payload.variablesKey, DOWNLOAD_URL_SECONDS)
    : undefined;
  return {
    jobId: job.jobId,
    credential: lease.credential,
    attempt: job.attempt,
    leaseExpiresAt: job.leaseExpiresAt ?? '',
    heartbeatSeconds: deps.store.policy.heartbeatSeconds,
    spec: {
      buildId: job.buildId,
      build: job.build,
      builderType: job.requirements.builderType,
      labels: [...job.requirements.labels],
      payload,
    },
    downloads: { bundle, ...(variables ? { variables } : {}) },
  };
}

/** Long poll: looks for a job now and every `pollIntervalMs` until `waitSeconds` have passed. */
export async function acquire(
  deps: GatewayDeps,
  authorization: string | undefined,
  request: Out<typeof acquireRequestSchema>,
): Promise<AcquireResponse> {
  const agent = await authenticateAgent(deps, authorization);
  const narrowed = request.labels ?? agent.labels;
  const foreign = missingLabels(narrowed, agent.labels);
  if (foreign.length > 0) {
    throw new AgentGatewayError(
      'InvalidRequest',
      `labels ${formatLabels(foreign)} are not this agent's (${formatLabels(agent.labels)}): labels come from the registration token`,
    );
  }
  await touchAgent(deps.store, agent.agentId, request.capabilities);
  const profile = { agentId: agent.agentId, name: agent.name, labels: narrowed, capabilities: request.capabilities };
  const waitMs = (request.waitSeconds ?? 0) * 1000;
  const deadline = deps.store.now().getTime() + waitMs;
  for (;;) {
    const lease = await acquireJob(deps.store, profile);
    if (lease) return { job: await leasedJob(deps, lease) };
    if (deps.store.now().getTime() + deps.pollIntervalMs > deadline) break;
    await deps.sleep(deps.pollIntervalMs);
  }
  // After a held poll, come back at once; after an immediate one, wait a heartbeat window's share.
  return { job: null, retryAfterSeconds: waitMs > 0 ? 0 : Math.ceil(deps.pollIntervalMs / 1000) };
}

export async function heartbeat(
  deps: GatewayDeps,
  authorization: string | undefined,
  jobId: string,
  request: Out<typeof heartbeatRequestSchema>,
): Promise<Out<typeof heartbeatResponseSchema>> {
  const { holder } = await authenticateJob(deps, authorization, jobId);
  const job = await heartbeatJob(deps.store, holder, request.progress);
  if (request.logLines?.length) {
    deps.log({ jobId, buildId: job.buildId, build: job.build, agentId: holder.agentId }, request.logLines);
  }
  const alive = await tellTask(() => deps.sfn.send(new SendTaskHeartbeatCommand({ taskToken: job.taskToken })));
  // The execution was aborted or timed out: the agent should stop, and the job must not be handed out again.
  if (!alive) await requestCancel(deps.store, jobId);
  return { leaseExpiresAt: job.leaseExpiresAt ?? '', cancel: !alive || job.cancelRequested === true };
}

/**
 * PUT URLs for the artifact files of the job's build, for its current lease holder only (a running job: the
 * credential of an earlier lease or of an ended job is refused). Keys live under the build's kept prefix
 * `agent-artifacts/<buildId>/<build>/`, named by the file's relative path (the contract refuses `..`).
 */
export async function uploads(
  deps: GatewayDeps,
  authorization: string | undefined,
  jobId: string,
  request: Out<typeof uploadsRequestSchema>,
): Promise<UploadsResponse> {
  const { job } = await authenticateJob(deps, authorization, jobId);
  if (job.status !== 'LEASED') {
    throw new AgentGatewayError(
      'LeaseLost',
      `${jobId} is ${job.status.toLowerCase()}: artifact files are uploaded while the job is leased, before complete`,
    );
  }
  const names = request.files.map((f) => f.name);
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length > 0) {
    throw new AgentGatewayError('InvalidRequest', `files ${[...new Set(twice)].join(', ')} are named more than once`);
  }
  return {
    uploads: await Promise.all(
      request.files.map(async ({ name, size }) => {
        const key = agentArtifactKeyFor(job.buildId, job.build, name);
        return { name, key, url: await deps.presignPut(key, size, UPLOAD_URL_SECONDS) };
      }),
    ),
  };
}

const finalStatusOf = (request: CompleteRequest): FinalJobStatus =>
  request.outcome === 'succeeded' ? 'SUCCEEDED' : request.kind === 'cancelled' ? 'CANCELLED' : 'FAILED';

/**
 * Records the outcome, then answers the task: success with the artifacts, failure with the named error and the
 * agent's reason. A repeated complete (the response was lost) answers the task again from the recorded
 * outcome: Step Functions takes the first answer and refuses later ones, which is ignored here.
 */
export async function complete(
  deps: GatewayDeps,
  authorization: string | undefined,
  jobId: string,
  request: CompleteRequest,
): Promise<Out<typeof completeResponseSchema>> {
  const { holder } = await authenticateJob(deps, authorization, jobId);
  const { job, repeated } = await completeJob(deps.store, holder, finalStatusOf(request), request);
  const recorded = completeRequestSchema.parse(JSON.parse(job.outcome ?? 'null'));
  if (recorded.outcome === 'succeeded') {
    const output: AgentTaskOutput = {
      jobId,
      agentId: holder.agentId,
      attempt: job.attempt,
      artifacts: recorded.artifacts,
    };
    await tellTask(() =>
      deps.sfn.send(new SendTaskSuccessCommand({ taskToken: job.taskToken, output: JSON.stringify(output) })),
    );
  } else {
    await failTask(deps, job.taskToken, TASK_ERROR_OF[recorded.kind], `agent ${holder.agentId}: ${recorded.reason}`);
  }
  const status = job.status === 'QUEUED' || job.status === 'LEASED' ? 'FAILED' : job.status;
  return { jobId, status, repeated };
}

// --- the pipeline's side ----------------------------------------------------------------------------------

export async function enqueue(deps: GatewayDeps, input: EnqueueJobInput): Promise<{ jobId: string }> {
  const job = await enqueueJob(deps.store, input);
  return { jobId: job.jobId };
}

export interface SweepReport {
  readonly reoffered: readonly string[];
  readonly lost: readonly string[];
  /** Cancelled while leased, then the agent stopped heartbeating before reporting: ended as CANCELLED. */
  readonly cancelled: readonly string[];
  readonly noAgent: readonly string[];
  readonly waiting: readonly string[];
  readonly executionGone: readonly string[];
}

/**
 * Runs every minute (EventBridge schedule): expired leases go back to the queue or, attempts spent, fail the
 * task with Kiln.AgentLost (a revoked agent's leases expire at its revocation); a cancelled job whose lease
 * expired ends CANCELLED (Kiln.BuildCancelled), never offered again; queued jobs that no online agent can take record why, and fail with
 * Kiln.NoAgentAvailable after the queue time; jobs still waiting send their task a heartbeat, so the task's
 * HeartbeatSeconds only fires when the gateway itself stops.
 */
export async function sweep(deps: GatewayDeps): Promise<SweepReport> {
  const { store } = deps;
  const now = store.now();
  const report = { reoffered: [], lost: [], cancelled: [], noAgent: [], waiting: [], executionGone: [] } as {
    [K in keyof SweepReport]: string[];
  };
  for (const seen of await listExpiredLeases(store)) {
    if (seen.cancelRequested) {
      const reason = `cancelled; agent ${seen.agentId ?? '?'} stopped heartbeating before it reported`;
      const ended = await endJobAsGateway(store, seen, 'LEASED', 'CANCELLED', reason);
      if (ended) {
        await failTask(deps, ended.taskToken, 'Kiln.BuildCancelled', reason);
        report.cancelled.push(seen.jobId);
      }
      continue;
    }
    const decision = afterExpiry(
      {
        agentId: seen.agentId ?? '?',
        attempt: seen.attempt,
        ...(seen.lastHeartbeatAt ? { lastHeartbeatAt: seen.lastHeartbeatAt } : {}),
      },
      store.policy,
    );
    if (decision.action === 'reoffer') {
      if (await requeueExpired(store, seen)) report.reoffered.push(seen.jobId);
      continue;
    }
    const ended = await endJobAsGateway(store, seen, 'LEASED', 'FAILED', decision.reason);
    if (ended) {
      await failTask(deps, ended.taskToken, 'Kiln.AgentLost', decision.reason);
      report.lost.push(seen.jobId);
    }
  }
  // A busy agent heartbeats its job instead of polling: it is online while it holds a live lease, so a job
  // queued behind it waits for it rather than failing with "no agent online".
  const busy = new Set(
    (await listLeasedJobs(store)).flatMap((j) =>
      j.agentId && j.leaseExpiresAt && Date.parse(j.leaseExpiresAt) > now.getTime() ? [j.agentId] : [],
    ),
  );
  const online = (await listActiveAgents(store)).filter(
    (a) => busy.has(a.agentId) || isOnline(a.lastSeenAt, now, store.policy),
  );
  for (const seen of await listQueuedJobs(store)) {
    const reason = explainNoMatch({ builderType: seen.builderType, labels: seen.labels }, online);
    if (reason !== undefined && queueTimedOut(seen.queuedAt, now, store.policy)) {
      const message = `${reason} (the job waited ${store.policy.queueTimeoutSeconds} s): start or register a matching agent, or change the build's labels`;
      const ended = await endJobAsGateway(store, seen, 'QUEUED', 'FAILED', message);
      if (ended) {
        await failTask(deps, ended.taskToken, 'Kiln.NoAgentAvailable', message);
        report.noAgent.push(seen.jobId);
      }
      continue;
    }
    const requirements = { builderType: seen.builderType, labels: seen.labels };
    const diagnose = reason !== undefined && online.some((a) => mayDiagnose(requirements, a));
    await setWaitingReason(store, seen, reason, diagnose);
    const job = await getJob(store, seen.jobId);
    if (job?.status !== 'QUEUED') continue;
    const alive = await tellTask(() => deps.sfn.send(new SendTaskHeartbeatCommand({ taskToken: job.taskToken })));
    if (alive) report.waiting.push(seen.jobId);
    else if (
      await endJobAsGateway(store, seen, 'QUEUED', 'CANCELLED', 'the execution ended while the job was queued')
    ) {
      report.executionGone.push(seen.jobId);
    }
  }
  return report;
}
