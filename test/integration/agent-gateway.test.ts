/**
 * The agent gateway on moto's DynamoDB (real conditional writes), Step Functions through aws-sdk-client-mock:
 * registration (single-use, expiring tokens, a race for one token), authentication (wrong secret, revoked and
 * deregistered agents, another job's credential, an earlier lease's), matching, leasing and re-offer after a lost
 * agent, completion (task success/failure, repeats), cancellation, the sweep's no-agent failure, and the
 * handler modules themselves over the proxy-event shape.
 */
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { authorizationHeader, type LeasedJob, uploadsRequestSchema } from '../../aws/agent-gateway-contract.ts';
import { AGENT_TABLE_ENV } from '../../aws/agent-gateway-records.ts';
import {
  createRegistrationToken,
  getAgent,
  getJob,
  listActiveAgents,
  listAllAgents,
  listQueuedJobs,
  requestCancel,
  setAgentStatus,
} from '../../aws/agent-gateway-store.ts';
import { jobIdForTaskToken } from '../../core/agents/credentials.ts';
import { AgentGatewayError } from '../../core/agents/errors.ts';
import {
  acquire,
  complete,
  deregister,
  enqueue,
  heartbeat,
  register,
  sweep,
  uploads,
} from '../../functions/agent-gateway/lib/gateway.ts';
import { agentJobCanceller } from '../../functions/common/cleanup/agent-jobs.ts';
import { KILN_ENV } from '../../functions/registry.ts';
import { LOCAL_REGION, localAwsEnv, localClientConfig } from '../../harness/clients.ts';
import { type MotoServer, startMoto } from '../../harness/moto.ts';
import { capabilities, enqueueInput, gatewayHarness, type Harness, TABLE } from './agent-gateway-fixtures.ts';

let moto: MotoServer;
let h: Harness;
const T0 = new Date('2026-12-02T12:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

beforeAll(async () => {
  moto = await startMoto();
}, 60_000);
afterAll(async () => {
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  h = await gatewayHarness(moto.endpoint, { heartbeatSeconds: 30, maxAttempts: 2, queueTimeoutSeconds: 300 });
  h.setClock(T0);
});

async function rejection(p: Promise<unknown>): Promise<AgentGatewayError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof AgentGatewayError) return error;
  throw new Error(`expected an AgentGatewayError, got ${String(error)}`);
}

async function newAgent(name: string, labels: string[] = [], caps = capabilities()) {
  const { token } = await createRegistrationToken(h.deps.store, { labels });
  const registered = await register(h.deps, { token, name, capabilities: caps });
  return { ...registered, auth: authorizationHeader('agent', registered.credential), caps };
}

async function take(agent: { auth: string; caps: ReturnType<typeof capabilities> }): Promise<LeasedJob> {
  const out = await acquire(h.deps, agent.auth, { capabilities: agent.caps });
  if (!out.job) throw new Error('expected a job');
  return out.job;
}
const enqueueJobId = (n: number) => jobIdForTaskToken(enqueueInput(n).taskToken);
const jobAuth = (job: LeasedJob) => authorizationHeader('job', job.credential);
const succeeded = {
  outcome: 'succeeded' as const,
  artifacts: [{ builderId: 'packer.null', artifactId: 'Null', files: [] }],
};

describe('registration', () => {
  it('exchanges a token once for an agent with the token labels, stored as a hash only', async () => {
    const { token } = await createRegistrationToken(h.deps.store, { labels: ['lab', 'ssd', 'lab'] });
    const out = await register(h.deps, { token, name: 'host-1', capabilities: capabilities() });
    expect(out.labels).toEqual(['lab', 'ssd']);
    const stored = await getAgent(h.deps.store, out.agentId);
    expect(stored?.status).toBe('ACTIVE');
    const secret = out.credential.split('.')[1] as string;
    expect(JSON.stringify(stored)).not.toContain(secret);
    const again = await rejection(register(h.deps, { token, name: 'host-2', capabilities: capabilities() }));
    expect(again.code).toBe('TokenInvalid');
    expect(again.message).toMatch(/already used .* agent ag-/);
  });

  it('lets exactly one of ten concurrent registrations with one token through', async () => {
    const { token } = await createRegistrationToken(h.deps.store, { labels: [] });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        register(h.deps, { token, name: `racer-${i}`, capabilities: capabilities() }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((x) => x.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'TokenInvalid' });
    }
  });

  it('refuses an expired token and a wrong or malformed one', async () => {
    const { token } = await createRegistrationToken(h.deps.store, { labels: [], ttlSeconds: 60 });
    h.setClock(at(61));
    expect((await rejection(register(h.deps, { token, name: 'late', capabilities: capabilities() }))).code).toBe(
      'TokenInvalid',
    );
    const forged = `${token.split('.')[0]}.${'A'.repeat(43)}`;
    expect((await rejection(register(h.deps, { token: forged, name: 'x', capabilities: capabilities() }))).code).toBe(
      'Unauthorized',
    );
    expect(
      (await rejection(register(h.deps, { token: 'nonsense', name: 'x', capabilities: capabilities() }))).code,
    ).toBe('Unauthorized');
  });
});

describe('agent authentication', () => {
  it('refuses a wrong secret, a revoked agent and a deregistered one on their next request', async () => {
    const a = await newAgent('a');
    const wrong = authorizationHeader('agent', `${a.agentId}.${'B'.repeat(43)}`);
    expect((await rejection(acquire(h.deps, wrong, { capabilities: a.caps }))).code).toBe('Unauthorized');
    expect((await rejection(acquire(h.deps, undefined, { capabilities: a.caps }))).code).toBe('Unauthorized');
    await expect(acquire(h.deps, a.auth, { capabilities: a.caps })).resolves.toMatchObject({ job: null });
    await setAgentStatus(h.deps.store, a.agentId, 'REVOKED');
    expect((await rejection(acquire(h.deps, a.auth, { capabilities: a.caps }))).code).toBe('AgentRevoked');

    const b = await newAgent('b');
    await deregister(h.deps, b.auth);
    expect((await listActiveAgents(h.deps.store)).map((x) => x.agentId)).toEqual([]);
    const all = await listAllAgents(h.deps.store);
    expect(all.map((x) => [x.agentId, x.status]).sort()).toEqual(
      [
        [a.agentId, 'REVOKED'],
        [b.agentId, 'DEREGISTERED'],
      ].sort(),
    );
    const refused = await rejection(acquire(h.deps, b.auth, { capabilities: b.caps }));
    expect([refused.code, refused.message]).toEqual([
      'AgentRevoked',
      expect.stringMatching(/was deregistered at .*: register it again/),
    ]);
  });

  it('refuses labels the agent was not registered with', async () => {
    const a = await newAgent('a', ['lab']);
    const error = await rejection(acquire(h.deps, a.auth, { capabilities: a.caps, labels: ['lab', 'gpu'] }));
    expect([error.code, error.message]).toEqual(['InvalidRequest', expect.stringContaining('labels [gpu] are not')]);
  });
});

describe('matching and leasing', () => {
  it('gives a job only to an agent with its labels and its hypervisor, never the task token', async () => {
    await enqueue(h.deps, enqueueInput(1, { builderType: 'vmware-iso', labels: ['lab'] }));
    const unlabelled = await newAgent('plain');
    const noVmware = await newAgent('vbox-only', ['lab'], capabilities({ hypervisors: ['VBoxManage'] }));
    expect((await acquire(h.deps, unlabelled.auth, { capabilities: unlabelled.caps })).job).toBeNull();
    expect((await acquire(h.deps, noVmware.auth, { capabilities: noVmware.caps })).job).toBeNull();
    const right = await newAgent('vmware', ['lab', 'ssd']);
    const out = await acquire(h.deps, right.auth, { capabilities: right.caps });
    expect(out.job).toMatchObject({
      attempt: 1,
      leaseExpiresAt: at(90).toISOString(),
      heartbeatSeconds: 30,
      spec: { buildId: 'b-1', builderType: 'vmware-iso', labels: ['lab'], payload: { only: 'vmware-iso.example' } },
      // URLs presigned for this lease; the job item keeps only keys.
      downloads: { bundle: 'https://artifacts.example/builds/b-1/files/.kiln/agent-template.tar.gz?expires=900' },
    });
    expect(JSON.stringify(out)).not.toContain('task-token');
    // Leased: nobody else gets it.
    expect((await acquire(h.deps, right.auth, { capabilities: right.caps })).job).toBeNull();
  });

  it('holds a long poll until a job arrives', async () => {
    const a = await newAgent('a');
    h.setClock(undefined);
    const polled = acquire({ ...h.deps, pollIntervalMs: 100 }, a.auth, { capabilities: a.caps, waitSeconds: 5 });
    await new Promise((r) => setTimeout(r, 400));
    await enqueue(h.deps, enqueueInput(2));
    const started = Date.now();
    const out = await polled;
    expect(out.job?.spec.buildId).toBe('b-2');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('extends the lease on heartbeat, forwards logs and the task heartbeat, and completes once', async () => {
    await enqueue(h.deps, enqueueInput(3));
    const a = await newAgent('a');
    const job = await take(a);
    h.setClock(at(60));
    const beat = await heartbeat(h.deps, jobAuth(job), job.jobId, {
      progress: 'provisioner 1/2',
      logLines: [{ time: at(59).toISOString(), line: 'Installing apache2' }],
    });
    expect(beat).toEqual({ leaseExpiresAt: at(150).toISOString(), cancel: false });
    expect(h.logs).toEqual([{ job: job.jobId, lines: [{ time: at(59).toISOString(), line: 'Installing apache2' }] }]);
    expect(h.sfn.commandCalls(SendTaskHeartbeatCommand)[0]?.args[0].input.taskToken).toBe(enqueueInput(3).taskToken);
    expect((await getJob(h.deps.store, job.jobId))?.progress).toBe('provisioner 1/2');

    const done = await complete(h.deps, jobAuth(job), job.jobId, succeeded);
    expect(done).toEqual({ jobId: job.jobId, status: 'SUCCEEDED', repeated: false });
    const success = h.sfn.commandCalls(SendTaskSuccessCommand);
    expect(success).toHaveLength(1);
    expect(JSON.parse(success[0]?.args[0].input.output ?? '')).toMatchObject({
      jobId: job.jobId,
      agentId: a.agentId,
      attempt: 1,
      artifacts: succeeded.artifacts,
    });
    // A retried complete (lost response) repeats the answer without a second transition.
    expect(await complete(h.deps, jobAuth(job), job.jobId, succeeded)).toMatchObject({ repeated: true });
    expect((await getJob(h.deps.store, job.jobId))?.status).toBe('SUCCEEDED');
    expect((await rejection(heartbeat(h.deps, jobAuth(job), job.jobId, {}))).code).toBe('LeaseLost');
  });

  it("refuses another job's credential, an agent credential on a job route, and a revoked holder", async () => {
    await enqueue(h.deps, enqueueInput(4));
    await enqueue(h.deps, enqueueInput(5));
    const a = await newAgent('a');
    const b = await newAgent('b');
    const jobA = await take(a);
    const jobB = await take(b);
    expect((await rejection(heartbeat(h.deps, jobAuth(jobB), jobA.jobId, {}))).code).toBe('Forbidden');
    expect((await rejection(complete(h.deps, jobAuth(jobB), jobA.jobId, succeeded))).code).toBe('Forbidden');
    expect((await rejection(heartbeat(h.deps, a.auth, jobA.jobId, {}))).code).toBe('Unauthorized');
    await setAgentStatus(h.deps.store, a.agentId, 'REVOKED');
    expect((await rejection(heartbeat(h.deps, jobAuth(jobA), jobA.jobId, {}))).code).toBe('AgentRevoked');
    expect((await rejection(complete(h.deps, jobAuth(jobA), jobA.jobId, succeeded))).code).toBe('AgentRevoked');
    expect(h.sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('re-offers a job whose agent went silent, refuses the old lease, and fails it once attempts are spent', async () => {
    await enqueue(h.deps, enqueueInput(6));
    const a = await newAgent('a');
    const b = await newAgent('b');
    const first = await take(a);
    h.setClock(at(89));
    expect((await acquire(h.deps, b.auth, { capabilities: b.caps })).job).toBeNull();
    h.setClock(at(91));
    const second = await take(b);
    expect([second.jobId, second.attempt]).toEqual([first.jobId, 2]);
    expect(second.credential).not.toBe(first.credential);
    expect((await rejection(heartbeat(h.deps, jobAuth(first), first.jobId, {}))).code).toBe('LeaseLost');
    expect((await rejection(complete(h.deps, jobAuth(first), first.jobId, succeeded))).code).toBe('LeaseLost');

    // b goes silent too: with maxAttempts 2 nobody gets it again and the sweep fails the task.
    h.setClock(at(200));
    expect((await acquire(h.deps, a.auth, { capabilities: a.caps })).job).toBeNull();
    const report = await sweep(h.deps);
    expect(report.lost).toEqual([first.jobId]);
    const failure = h.sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
    expect(failure?.error).toBe('Kiln.AgentLost');
    expect(failure?.cause).toMatch(/agent ag-[0-9a-f]+ stopped heartbeating .* leased 2 times/);
    expect((await getJob(h.deps.store, first.jobId))?.status).toBe('FAILED');
  });

  it('puts an expired lease back in the queue on sweep, ahead of later jobs', async () => {
    await enqueue(h.deps, enqueueInput(7));
    const a = await newAgent('a');
    const lost = await take(a);
    h.setClock(at(10));
    await enqueue(h.deps, enqueueInput(8));
    h.setClock(at(100));
    expect((await sweep(h.deps)).reoffered).toEqual([lost.jobId]);
    const job = await getJob(h.deps.store, lost.jobId);
    expect([job?.status, job?.credentialHash]).toEqual(['QUEUED', undefined]);
    expect((await listQueuedJobs(h.deps.store)).map((j) => j.jobId)).toEqual([lost.jobId, enqueueJobId(8)]);
    const b = await newAgent('b');
    const taken = [await take(b), await take(b)];
    expect(taken.map((j) => [j.jobId, j.attempt]).sort()).toEqual(
      [
        [lost.jobId, 2],
        [enqueueJobId(8), 1],
      ].sort(),
    );
  });
});

describe('outcomes, cancellation and the sweep', () => {
  it('fails the task with the named error for each failure kind', async () => {
    const a = await newAgent('a');
    const kinds = [
      ['build-failed', 'Kiln.AgentBuildFailed', 'FAILED'],
      ['cannot-run', 'Kiln.DriverUnavailable', 'FAILED'],
      ['cancelled', 'Kiln.BuildCancelled', 'CANCELLED'],
    ] as const;
    for (const [i, [kind, error, status]] of kinds.entries()) {
      await enqueue(h.deps, enqueueInput(`k${i}`));
      const job = await take(a);
      const out = await complete(h.deps, jobAuth(job), job.jobId, { outcome: 'failed', kind, reason: `${kind} here` });
      expect(out.status).toBe(status);
      const sent = h.sfn.commandCalls(SendTaskFailureCommand).at(-1)?.args[0].input;
      expect([sent?.error, sent?.cause]).toEqual([error, `agent ${a.agentId}: ${kind} here`]);
    }
  });

  it('tells the agent to cancel when the execution is gone, and never offers the job again', async () => {
    await enqueue(h.deps, enqueueInput(9));
    const a = await newAgent('a');
    const job = await take(a);
    h.sfn.on(SendTaskHeartbeatCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    expect((await heartbeat(h.deps, jobAuth(job), job.jobId, {})).cancel).toBe(true);
    expect((await getJob(h.deps.store, job.jobId))?.cancelRequested).toBe(true);
    expect(
      await complete(h.deps, jobAuth(job), job.jobId, { outcome: 'failed', kind: 'cancelled', reason: 'stopped' }),
    ).toMatchObject({
      status: 'CANCELLED',
    });
    h.setClock(at(1000));
    expect((await acquire(h.deps, a.auth, { capabilities: a.caps })).job).toBeNull();
  });

  it('reaches the agent with `kiln builds cancel`, and drops a queued job whose execution is gone', async () => {
    await enqueue(h.deps, enqueueInput(13));
    const a = await newAgent('a');
    const job = await take(a);
    await requestCancel(h.deps.store, job.jobId);
    expect(await heartbeat(h.deps, jobAuth(job), job.jobId, {})).toMatchObject({ cancel: true });

    const { jobId } = await enqueue(h.deps, enqueueInput(14));
    h.sfn.on(SendTaskHeartbeatCommand).rejects(new TaskDoesNotExist({ message: 'Task does not exist', $metadata: {} }));
    expect((await sweep(h.deps)).executionGone).toEqual([jobId]);
    expect((await getJob(h.deps.store, jobId))?.status).toBe('CANCELLED');
    expect((await acquire(h.deps, a.auth, { capabilities: a.caps })).job).toBeNull();
  });

  it('records why a job waits and fails it after the queue time with that reason', async () => {
    const { jobId } = await enqueue(h.deps, enqueueInput(10, { builderType: 'vmware-iso', labels: ['gpu'] }));
    const other = await newAgent('other', ['lab']);
    await acquire(h.deps, other.auth, { capabilities: other.caps });
    h.setClock(at(30));
    expect(await sweep(h.deps)).toMatchObject({ waiting: [jobId], noAgent: [] });
    expect((await getJob(h.deps.store, jobId))?.waitingReason).toBe('no agent with labels [gpu] is online');
    expect(h.sfn.commandCalls(SendTaskHeartbeatCommand)).toHaveLength(1);
    h.setClock(at(300));
    await acquire(h.deps, other.auth, { capabilities: other.caps });
    expect((await sweep(h.deps)).noAgent).toEqual([jobId]);
    const failure = h.sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
    expect(failure?.error).toBe('Kiln.NoAgentAvailable');
    expect(failure?.cause).toMatch(/^no agent with labels \[gpu\] is online \(the job waited 300 s\)/);
  });

  it('keeps a job queued behind a busy agent that heartbeats instead of polling, past the queue time', async () => {
    const a = await newAgent('only');
    await enqueue(h.deps, enqueueInput(20));
    const first = await take(a);
    const { jobId } = await enqueue(h.deps, enqueueInput(21));
    // The agent works on its first job for longer than the queue time, heartbeating every 30 s, never polling.
    for (let t = 30; t <= 420; t += 30) {
      h.setClock(at(t));
      await heartbeat(h.deps, jobAuth(first), first.jobId, {});
    }
    expect(await sweep(h.deps)).toMatchObject({ waiting: [jobId], noAgent: [] });
    await complete(h.deps, jobAuth(first), first.jobId, succeeded);
    expect((await take(a)).jobId).toBe(jobId);
  });

  it("lets Cleanup cancel a failed agent build's open jobs: queued ends, leased is told, other builds untouched", async () => {
    const a = await newAgent('a');
    await enqueue(h.deps, enqueueInput(30));
    const leased = await take(a);
    const queued = await enqueue(h.deps, { ...enqueueInput(31), buildId: 'b-30' });
    const other = await enqueue(h.deps, { ...enqueueInput(32), buildId: 'b-30', build: 'file.other' });
    const steps = await agentJobCanceller(h.deps.store)('b-30', 'null.example');
    expect(steps.map((s) => [s.target, s.outcome]).sort()).toEqual(
      [
        [leased.jobId, 'removed'],
        [queued.jobId, 'removed'],
      ].sort(),
    );
    expect((await getJob(h.deps.store, queued.jobId))?.status).toBe('CANCELLED');
    expect(await heartbeat(h.deps, jobAuth(leased), leased.jobId, {})).toMatchObject({ cancel: true });
    expect((await getJob(h.deps.store, other.jobId))?.status).toBe('QUEUED');
  });

  it('names the missing hypervisor when agents with the labels are online', async () => {
    const { jobId } = await enqueue(h.deps, enqueueInput(11, { builderType: 'vmware-iso', labels: ['lab'] }));
    const a = await newAgent('lab-1', ['lab'], capabilities({ hypervisors: [] }));
    await acquire(h.deps, a.auth, { capabilities: a.caps });
    await sweep(h.deps);
    expect((await getJob(h.deps.store, jobId))?.waitingReason).toBe(
      `no online agent with labels [lab] can run vmware-iso: lab-1 (${a.agentId}): vmware not available on this agent (vmrun not found)`,
    );
  });

  it('hands a job no online agent can run to one lacking only the hypervisor, to refuse it with its diagnosis', async () => {
    const { jobId } = await enqueue(h.deps, enqueueInput(40, { builderType: 'vmware-iso' }));
    const noVmware = await newAgent('vbox', [], capabilities({ hypervisors: ['VBoxManage'] }));
    const noBuilder = await newAgent('null-only', [], capabilities({ builders: ['null'], hypervisors: [] }));
    // Before the sweep looked at it, the strict match holds: nobody takes it.
    expect((await acquire(h.deps, noVmware.auth, { capabilities: noVmware.caps })).job).toBeNull();
    await sweep(h.deps);
    expect((await acquire(h.deps, noBuilder.auth, { capabilities: noBuilder.caps })).job).toBeNull();
    const taken = await take(noVmware);
    expect(taken.jobId).toBe(jobId);
    await complete(h.deps, jobAuth(taken), jobId, {
      outcome: 'failed',
      kind: 'cannot-run',
      reason: 'vmware not available on this agent: vmrun was not found on PATH',
    });
    expect(h.sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input).toMatchObject({
      error: 'Kiln.DriverUnavailable',
      cause: expect.stringContaining('vmware not available on this agent'),
    });
  });

  it('never hands a job to an agent lacking the hypervisor while one that has it is online, even busy', async () => {
    const capable = await newAgent('vmware');
    await enqueue(h.deps, enqueueInput(41, { builderType: 'vmware-iso' }));
    await take(capable);
    const { jobId } = await enqueue(h.deps, enqueueInput(42, { builderType: 'vmware-iso' }));
    const noVmware = await newAgent('vbox', [], capabilities({ hypervisors: ['VBoxManage'] }));
    h.setClock(at(30));
    expect(await sweep(h.deps)).toMatchObject({ waiting: [jobId] });
    expect((await acquire(h.deps, noVmware.auth, { capabilities: noVmware.caps })).job).toBeNull();
  });

  it('enqueues one job per task token', async () => {
    const first = await enqueue(h.deps, enqueueInput(12));
    expect(await enqueue(h.deps, enqueueInput(12))).toEqual(first);
  });
});

describe('artifact uploads', () => {
  const files = [
    { name: 'output-vmware-iso/disk.vmdk', size: 5 * 1024 ** 3 },
    { name: 'out/release notes.txt', size: 0 },
  ];

  it('presigns a PUT per file under agent-artifacts/<buildId>/<build>/ for the lease holder, 1 h, sized', async () => {
    await enqueue(h.deps, enqueueInput(50));
    const job = await take(await newAgent('a'));
    const out = await uploads(h.deps, jobAuth(job), job.jobId, { files });
    expect(out.uploads).toEqual([
      {
        name: 'output-vmware-iso/disk.vmdk',
        key: 'agent-artifacts/b-50/null.example/output-vmware-iso/disk.vmdk',
        url: `https://artifacts.example/agent-artifacts/b-50/null.example/output-vmware-iso/disk.vmdk?put&bytes=${5 * 1024 ** 3}&expires=3600`,
      },
      {
        name: 'out/release notes.txt',
        key: 'agent-artifacts/b-50/null.example/out/release notes.txt',
        url: 'https://artifacts.example/agent-artifacts/b-50/null.example/out/release notes.txt?put&bytes=0&expires=3600',
      },
    ]);
  });

  it("refuses another job's credential, an agent credential, an earlier lease's and an ended job's", async () => {
    await enqueue(h.deps, enqueueInput(51));
    await enqueue(h.deps, enqueueInput(52));
    const a = await newAgent('a');
    const b = await newAgent('b');
    const jobA = await take(a);
    const jobB = await take(b);
    expect((await rejection(uploads(h.deps, jobAuth(jobB), jobA.jobId, { files }))).code).toBe('Forbidden');
    expect((await rejection(uploads(h.deps, a.auth, jobA.jobId, { files }))).code).toBe('Unauthorized');
    expect((await rejection(uploads(h.deps, undefined, jobA.jobId, { files }))).code).toBe('Unauthorized');
    // jobA's lease runs out and b takes it again: a's credential is an earlier lease's.
    h.setClock(at(91));
    await heartbeat(h.deps, jobAuth(jobB), jobB.jobId, {});
    const again = await take(b);
    expect(again.jobId).toBe(jobA.jobId);
    expect((await rejection(uploads(h.deps, jobAuth(jobA), jobA.jobId, { files }))).code).toBe('LeaseLost');
    await complete(h.deps, jobAuth(again), again.jobId, succeeded);
    const ended = await rejection(uploads(h.deps, jobAuth(again), again.jobId, { files }));
    expect([ended.code, ended.message]).toEqual(['LeaseLost', expect.stringContaining('is succeeded')]);
    await setAgentStatus(h.deps.store, b.agentId, 'REVOKED');
    expect((await rejection(uploads(h.deps, jobAuth(jobB), jobB.jobId, { files }))).code).toBe('AgentRevoked');
  });

  it('refuses a file named twice', async () => {
    await enqueue(h.deps, enqueueInput(53));
    const job = await take(await newAgent('a'));
    const twice = await rejection(
      uploads(h.deps, jobAuth(job), job.jobId, { files: [files[1], files[1]] as typeof files }),
    );
    expect([twice.code, twice.message]).toEqual(['InvalidRequest', expect.stringContaining('named more than once')]);
  });

  it('takes only relative names inside the job folder, at most 100 files of at most 5 GiB (the contract)', () => {
    const ok = (name: string, size = 1) => uploadsRequestSchema.safeParse({ files: [{ name, size }] }).success;
    expect(ok('out/hello.txt')).toBe(true);
    expect(ok('output-vmware-iso/ubuntu.vmx')).toBe(true);
    for (const bad of ['../x', 'out/../../x', '/etc/passwd', 'out//x', './x', 'out/', 'a\\..\\b', '']) {
      expect(ok(bad), bad).toBe(false);
    }
    expect(ok('big', 5 * 1024 ** 3)).toBe(true);
    expect(ok('big', 5 * 1024 ** 3 + 1)).toBe(false);
    expect(ok('neg', -1)).toBe(false);
    const many = (n: number) =>
      uploadsRequestSchema.safeParse({ files: Array.from({ length: n }, (_, i) => ({ name: `f${i}`, size: 1 })) })
        .success;
    expect([many(100), many(101), many(0)]).toEqual([true, false, false]);
  });
});

describe('handler modules (API Gateway proxy events)', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('answers with the contract statuses and bodies', async () => {
    for (const [k, v] of Object.entries(localAwsEnv(moto.endpoint))) vi.stubEnv(k, v);
    vi.stubEnv(AGENT_TABLE_ENV, TABLE);
    const { token } = await createRegistrationToken({ ...h.deps.store, now: () => new Date() }, { labels: ['lab'] });
    const registerRoute = (await import('../../functions/agent-gateway/register/handler.ts')).handler;
    const acquireRoute = (await import('../../functions/agent-gateway/acquire/handler.ts')).handler;

    const ok = await registerRoute({
      headers: {},
      pathParameters: null,
      isBase64Encoded: false,
      body: JSON.stringify({ token, name: 'h-1', capabilities: capabilities() }),
    });
    expect([ok.statusCode, ok.headers?.['cache-control']]).toEqual([200, 'no-store']);
    const { credential } = JSON.parse(ok.body) as { credential: string };

    const polled = await acquireRoute({
      headers: { AUTHORIZATION: authorizationHeader('agent', credential) },
      pathParameters: null,
      isBase64Encoded: false,
      body: JSON.stringify({ capabilities: capabilities(), waitSeconds: 0 }),
    });
    expect([polled.statusCode, JSON.parse(polled.body)]).toEqual([200, { job: null, retryAfterSeconds: 1 }]);

    const noAuth = await acquireRoute({
      headers: {},
      pathParameters: null,
      isBase64Encoded: false,
      body: JSON.stringify({ capabilities: capabilities() }),
    });
    expect([noAuth.statusCode, JSON.parse(noAuth.body).error.code]).toEqual([401, 'Unauthorized']);
    const bad = await acquireRoute({
      headers: {},
      pathParameters: null,
      isBase64Encoded: false,
      body: '{"capabilities":{}}',
    });
    expect([bad.statusCode, JSON.parse(bad.body).error.code]).toEqual([400, 'InvalidRequest']);
    const reused = await registerRoute({
      headers: {},
      pathParameters: null,
      isBase64Encoded: false,
      body: JSON.stringify({ token, name: 'h-2', capabilities: capabilities() }),
    });
    expect([reused.statusCode, JSON.parse(reused.body).error.code]).toEqual([401, 'TokenInvalid']);
  });

  it('uploads: presigns PUTs the artifacts bucket (moto) takes, for the job route with its credential', async () => {
    for (const [k, v] of Object.entries(localAwsEnv(moto.endpoint))) vi.stubEnv(k, v);
    vi.stubEnv(AGENT_TABLE_ENV, TABLE);
    vi.stubEnv(KILN_ENV.artifactsBucket, 'kiln-artifacts');
    const s3 = new S3Client(localClientConfig(moto.endpoint, LOCAL_REGION));
    await s3.send(new CreateBucketCommand({ Bucket: 'kiln-artifacts' }));
    h.setClock(undefined);
    await enqueue(h.deps, enqueueInput(60));
    const job = await take(await newAgent('a'));
    const route = (await import('../../functions/agent-gateway/uploads/handler.ts')).handler;
    const body = 'packer made this\n';
    const answer = await route({
      headers: { authorization: jobAuth(job) },
      pathParameters: { jobId: job.jobId },
      isBase64Encoded: false,
      body: JSON.stringify({ files: [{ name: 'out/notes.txt', size: body.length }] }),
    });
    expect(answer.statusCode, answer.body).toBe(200);
    const [upload] = (JSON.parse(answer.body) as { uploads: { name: string; url: string; key: string }[] }).uploads;
    expect(upload?.key).toBe('agent-artifacts/b-60/null.example/out/notes.txt');
    const signed = new URL(upload?.url ?? '').searchParams;
    expect(signed.get('X-Amz-Expires')).toBe('3600');
    // The declared size is signed: S3 refuses another Content-Length (moto does not check signatures, AWS does).
    expect(signed.get('X-Amz-SignedHeaders')?.split(';')).toContain('content-length');
    const put = await fetch(upload?.url ?? '', { method: 'PUT', body });
    expect(put.status, await put.text()).toBe(200);
    const stored = await s3.send(new GetObjectCommand({ Bucket: 'kiln-artifacts', Key: upload?.key }));
    expect(await stored.Body?.transformToString()).toBe(body);

    const dotdot = await route({
      headers: { authorization: jobAuth(job) },
      pathParameters: { jobId: job.jobId },
      isBase64Encoded: false,
      body: JSON.stringify({ files: [{ name: 'out/../../b-61/x', size: 1 }] }),
    });
    expect([dotdot.statusCode, JSON.parse(dotdot.body).error.code]).toEqual([400, 'InvalidRequest']);
  });
});
