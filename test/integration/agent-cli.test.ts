/**
 * `kiln agents …` and `kiln builds cancel` on moto: the CLI and the gateway share one agent table (moto's
 * DynamoDB, real conditional writes); the gateway's Step Functions calls are recorded (aws-sdk-client-mock), the
 * CLI's go to moto's Step Functions, where a build execution waits in a Wait state until it is stopped. Token
 * single use and expiry are agent-gateway.test.ts's; here: a token the CLI printed registers an agent the CLI then
 * lists and shows, revocation (the gateway refuses the agent, its leased job is offered again), token revocation,
 * and a cancel reaching a queued job (never leased after) and a leased one (the heartbeat answers cancel).
 */
import { CreateTableCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  SendTaskFailureCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { authorizationHeader, type LeasedJob } from '../../aws/agent-gateway-contract.ts';
import { getAgent, getJob, listQueuedJobs, requestCancel } from '../../aws/agent-gateway-store.ts';
import { BUILD_RECORD_KEY, buildStartItem } from '../../aws/build-records.ts';
import type { AgentsConnect } from '../../cli/agents.ts';
import { bufferedIO } from '../../cli/io.ts';
import { commandHandlers, runCli } from '../../cli/program.ts';
import { AgentGatewayError } from '../../core/agents/errors.ts';
import { acquire, enqueue, heartbeat, register, sweep } from '../../functions/agent-gateway/lib/gateway.ts';
import { buildIdFor } from '../../functions/common/prepare-build/prepare-build.ts';
import { LOCAL_REGION, localClientConfig } from '../../harness/clients.ts';
import { type MotoServer, startMoto } from '../../harness/moto.ts';
import { capabilities, enqueueInput, gatewayHarness, type Harness, TABLE } from './agent-gateway-fixtures.ts';

let moto: MotoServer;
let h: Harness;
let sfn: SFNClient;
let sfnCalls: { command: string; input: unknown }[] = [];
const T0 = new Date('2026-12-02T12:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const BUILDS_TABLE = 'kiln-builds';
const ROLE = 'arn:aws:iam::123456789012:role/kiln-test';

beforeAll(async () => {
  moto = await startMoto();
}, 60_000);
afterAll(async () => {
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  h = await gatewayHarness(moto.endpoint, { heartbeatSeconds: 30, maxAttempts: 3, queueTimeoutSeconds: 300 });
  h.setClock(T0);
  sfn = new SFNClient(localClientConfig(moto.endpoint, LOCAL_REGION));
  // moto's DescribeExecution leaves out an aborted execution's error and cause: what was sent is recorded here.
  sfnCalls = [];
  sfn.middlewareStack.add(
    (next, context) => async (args) => {
      sfnCalls.push({ command: context.commandName ?? '?', input: args.input });
      return next(args);
    },
    { step: 'initialize' },
  );
});

/** Runs `kiln <argv>` against the emulator, on the gateway's clock, with env for the table fallbacks. */
async function kiln(argv: string[], env: Record<string, string> = {}) {
  const io = bufferedIO({ env: { AWS_REGION: LOCAL_REGION, ...env }, now: () => h.deps.store.now() });
  const connect: AgentsConnect = () => ({ dynamo: h.deps.store.dynamo, sfn });
  const code = await runCli(argv, io, commandHandlers(io, undefined, undefined, connect));
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

async function rejection(p: Promise<unknown>): Promise<AgentGatewayError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof AgentGatewayError) return error;
  throw new Error(`expected an AgentGatewayError, got ${String(error)}`);
}

/** `kiln agents token create` → the token it printed → the gateway's register. */
async function registeredAgent(name: string, labels: string, caps = capabilities()) {
  const created = await kiln(['agents', 'token', 'create', '--labels', labels, '--table', TABLE, '--json']);
  expect(created.code).toBe(0);
  const { token } = JSON.parse(created.stdout) as { token: string };
  const out = await register(h.deps, { token, name, capabilities: caps });
  return { ...out, auth: authorizationHeader('agent', out.credential), caps, token };
}

async function take(agent: { auth: string; caps: ReturnType<typeof capabilities> }): Promise<LeasedJob> {
  const out = await acquire(h.deps, agent.auth, { capabilities: agent.caps });
  if (!out.job) throw new Error('expected a job');
  return out.job;
}
const jobAuth = (job: LeasedJob) => authorizationHeader('job', job.credential);

describe('kiln agents token', () => {
  it('prints the token once, stores only its hash, and registers an agent that list then shows', async () => {
    const created = await kiln(['agents', 'token', 'create', '--labels', 'lab,ssd', '--labels', 'lab', '--ttl', '2h'], {
      KILN_AGENT_TABLE: TABLE,
    });
    expect(created.code).toBe(0);
    const token = /^ {2}(rt-[0-9a-f]{24}\.[A-Za-z0-9_-]{43})$/m.exec(created.stdout)?.[1] ?? '';
    expect(token).not.toBe('');
    const [tokenId, secret] = token.split('.') as [string, string];
    expect(created.stdout).toContain(`id ${tokenId}, labels [lab, ssd], single use, expires ${at(7200).toISOString()}`);

    const items = (await h.deps.store.dynamo.send(new ScanCommand({ TableName: TABLE }))).Items ?? [];
    expect(items).toHaveLength(1);
    expect(JSON.stringify(items)).not.toContain(secret);

    const listed = await kiln(['agents', 'token', 'list', '--table', TABLE]);
    expect(listed.stdout).toMatch(new RegExp(`${tokenId}\\s+\\[lab, ssd\\].*unused`));
    expect(listed.stdout).not.toContain(secret);

    const agent = await register(h.deps, { token, name: 'host-1', capabilities: capabilities() });
    expect(agent.labels).toEqual(['lab', 'ssd']);
    // Used: gone from the default list, named with its agent under --all.
    expect((await kiln(['agents', 'token', 'list', '--table', TABLE])).stdout).toMatch(/^No unused registration/);
    expect((await kiln(['agents', 'token', 'list', '--all', '--table', TABLE])).stdout).toContain(
      `used by ${agent.agentId}`,
    );

    await acquire(h.deps, authorizationHeader('agent', agent.credential), { capabilities: capabilities() });
    h.setClock(at(30));
    const list = await kiln(['agents', 'list', '--table', TABLE]);
    expect(list.code).toBe(0);
    const row = list.stdout.split('\n').find((l) => l.startsWith(agent.agentId)) ?? '';
    expect(row.split(/\s{2,}/)).toEqual([
      agent.agentId,
      'host-1',
      'ACTIVE',
      'online',
      '[lab, ssd]',
      'vmrun,VBoxManage',
      '1.6.6',
      'linux/amd64',
      '-',
      '30s ago',
    ]);
    h.setClock(at(200));
    const later = JSON.parse((await kiln(['agents', 'list', '--table', TABLE, '--json'])).stdout);
    expect(later).toMatchObject([{ agentId: agent.agentId, online: false, lastSeenAt: T0.toISOString(), jobs: [] }]);
  });

  it('revokes an unused token (registration refused after) and refuses to revoke a used one', async () => {
    const a = await kiln(['agents', 'token', 'create', '--table', TABLE, '--json']);
    const { token, tokenId } = JSON.parse(a.stdout) as { token: string; tokenId: string };
    const revoked = await kiln(['agents', 'token', 'revoke', tokenId, '--table', TABLE]);
    expect([revoked.code, revoked.stdout]).toEqual([
      0,
      expect.stringContaining(`Revoked registration token ${tokenId}`),
    ]);
    const refused = await rejection(register(h.deps, { token, name: 'x', capabilities: capabilities() }));
    expect([refused.code, refused.message]).toEqual(['TokenInvalid', expect.stringMatching(/was revoked at /)]);
    expect((await kiln(['agents', 'token', 'list', '--all', '--table', TABLE])).stdout).toMatch(/revoked/);

    const used = await registeredAgent('host-2', 'x');
    const again = await kiln(['agents', 'token', 'revoke', used.token.split('.')[0] as string, '--table', TABLE]);
    expect([again.code, again.stderr]).toEqual([1, expect.stringContaining(`already used by agent ${used.agentId}`)]);
    expect((await getAgent(h.deps.store, used.agentId))?.status).toBe('ACTIVE');
  });

  it('refuses a bad ttl or label before writing, and says where the table comes from', async () => {
    expect((await kiln(['agents', 'token', 'create', '--ttl', 'soon', '--table', TABLE])).stderr).toMatch(
      /--ttl soon is not a duration/,
    );
    expect((await kiln(['agents', 'token', 'create', '--ttl', '8d', '--table', TABLE])).stderr).toMatch(
      /1 s to 604800 s/,
    );
    expect((await kiln(['agents', 'token', 'create', '--labels', 'a b', '--table', TABLE])).code).toBe(1);
    expect((await h.deps.store.dynamo.send(new ScanCommand({ TableName: TABLE }))).Count).toBe(0);
    const none = await kiln(['agents', 'list']);
    expect([none.code, none.stderr]).toEqual([1, expect.stringContaining('KILN_AGENT_TABLE')]);
  });
});

describe('kiln agents show and revoke', () => {
  it('shows the hypervisor an agent lacks and the job it holds', async () => {
    const agent = await registeredAgent('vbox-only', 'lab', capabilities({ hypervisors: ['VBoxManage'] }));
    await enqueue(h.deps, enqueueInput(1, { builderType: 'virtualbox-iso', labels: ['lab'] }));
    const job = await take(agent);
    await heartbeat(h.deps, jobAuth(job), job.jobId, { progress: 'provisioning' });
    const shown = await kiln(['agents', 'show', agent.agentId, '--table', TABLE]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^ {2}hypervisors +VBoxManage$/m);
    expect(shown.stdout).toMatch(
      /^ {2}vmware-iso +cannot run: vmware not available on this agent \(vmrun not found\)$/m,
    );
    expect(shown.stdout).toMatch(/^ {2}virtualbox-iso +can run$/m);
    expect(shown.stdout).toMatch(
      new RegExp(`job +${job.jobId}: build b-1 virtualbox-iso.example \\(virtualbox-iso\\), attempt 1, .*provisioning`),
    );
    const asJson = JSON.parse((await kiln(['agents', 'show', agent.agentId, '--table', TABLE, '--json'])).stdout);
    expect(asJson.capabilityGap).toEqual({
      'vmware-iso': 'vmware not available on this agent (vmrun not found)',
      'virtualbox-iso': null,
    });
    expect(asJson.jobs.map((j: { jobId: string }) => j.jobId)).toEqual([job.jobId]);
    expect(JSON.stringify(asJson)).not.toMatch(/taskToken|credentialHash|secretHash/);
    expect((await kiln(['agents', 'list', '--table', TABLE])).stdout).toMatch(
      new RegExp(`${agent.agentId} .*VBoxManage .*${job.jobId}`),
    );
    expect((await kiln(['agents', 'show', 'ag-000000000000000000000000', '--table', TABLE])).stderr).toMatch(
      /no agent ag-0+/,
    );
  });

  it('revokes an agent: refused on its next acquire and heartbeat, its job offered to another agent', async () => {
    const a = await registeredAgent('a', 'lab');
    const b = await registeredAgent('b', 'lab');
    await enqueue(h.deps, enqueueInput(2, { labels: ['lab'] }));
    const job = await take(a);
    h.setClock(at(5));

    const revoked = await kiln(['agents', 'revoke', a.agentId, '--table', TABLE]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`Revoked agent ${a.agentId} (a)`);
    expect(revoked.stdout).toContain(`${job.jobId}: its lease ended now`);

    h.setClock(at(6));
    const refused = await rejection(acquire(h.deps, a.auth, { capabilities: a.caps }));
    expect([refused.code, refused.message]).toEqual(['AgentRevoked', expect.stringMatching(/was revoked at /)]);
    expect((await rejection(heartbeat(h.deps, jobAuth(job), job.jobId, {}))).code).toBe('AgentRevoked');

    // The next sweep puts the job back in the queue at once (no waiting out its 90 s lease), and b gets it.
    expect((await sweep(h.deps)).reoffered).toEqual([job.jobId]);
    const second = await take(b);
    expect([second.jobId, second.attempt]).toEqual([job.jobId, 2]);

    const all = JSON.parse((await kiln(['agents', 'list', '--all', '--table', TABLE, '--json'])).stdout);
    expect(all.map((x: { name: string; status: string }) => [x.name, x.status])).toEqual([
      ['a', 'REVOKED'],
      ['b', 'ACTIVE'],
    ]);
    expect(
      JSON.parse((await kiln(['agents', 'list', '--table', TABLE, '--json'])).stdout).map(
        (x: { name: string }) => x.name,
      ),
    ).toEqual(['b']);
    expect((await kiln(['agents', 'revoke', a.agentId, '--table', TABLE])).stdout).toMatch(/already revoked/);
  });
});

describe('kiln builds cancel', () => {
  /** A build execution parked in a Wait state, and its record in the builds table. */
  async function runningBuild(executionName: string) {
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({
        name: 'kiln-build',
        roleArn: ROLE,
        definition: JSON.stringify({ StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 600, End: true } } }),
      }),
    );
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, name: executionName, input: '{}' }),
    );
    await h.deps.store.dynamo.send(
      new CreateTableCommand({
        TableName: BUILDS_TABLE,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: BUILD_RECORD_KEY, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: BUILD_RECORD_KEY, KeyType: 'HASH' }],
      }),
    );
    const buildId = buildIdFor(executionName);
    await h.deps.store.dynamo.send(
      new PutItemCommand({
        TableName: BUILDS_TABLE,
        Item: buildStartItem({
          buildId,
          executionName,
          template: { bucket: 'templates', key: 'templates/vm.json' },
          trigger: 'cli',
          createdAt: T0.toISOString(),
          builds: [{ index: 0, name: 'null.example', driver: 'agent' }],
        }),
      }),
    );
    return { stateMachineArn: stateMachineArn as string, executionArn: executionArn as string, buildId };
  }

  const status = async (executionArn: string) =>
    (await sfn.send(new DescribeExecutionCommand({ executionArn }))).status;

  it("stops the execution, ends its queued job and tells its leased job's agent at the next heartbeat", async () => {
    const build = await runningBuild('exec-cancel-1');
    const agent = await registeredAgent('a', '');
    const leased = { ...enqueueInput('l'), buildId: build.buildId };
    const queued = { ...enqueueInput('q'), buildId: build.buildId };
    const other = enqueueInput('other');
    await enqueue(h.deps, leased);
    const job = await take(agent);
    const { jobId: queuedId } = await enqueue(h.deps, queued);
    const { jobId: otherId } = await enqueue(h.deps, other);
    expect(await status(build.executionArn)).toBe('RUNNING');

    const out = await kiln(['builds', 'cancel', build.buildId, '--reason', 'wrong branch'], {
      KILN_STATE_MACHINE_ARN: build.stateMachineArn,
      KILN_BUILDS_TABLE: BUILDS_TABLE,
      KILN_AGENT_TABLE: TABLE,
    });
    expect([out.code, out.stderr]).toEqual([0, '']);
    expect(out.stdout).toContain(`Stopped build ${build.buildId}: execution ${build.executionArn} aborted`);
    expect(out.stdout).toContain(`agent job ${queuedId}: QUEUED → CANCELLED (never leased now)`);
    expect(out.stdout).toContain(`agent job ${job.jobId} on ${agent.agentId}: cancel requested`);

    expect(await status(build.executionArn)).toBe('ABORTED');
    expect(sfnCalls.filter((c) => c.command === 'StopExecutionCommand').map((c) => c.input)).toEqual([
      { executionArn: build.executionArn, error: 'Kiln.BuildCancelled', cause: 'wrong branch' },
    ]);
    expect(await heartbeat(h.deps, jobAuth(job), job.jobId, {})).toMatchObject({ cancel: true });
    expect((await getJob(h.deps.store, queuedId))?.status).toBe('CANCELLED');
    // Another build's job is untouched; the cancelled one is never leased: a second agent gets the other only.
    expect((await listQueuedJobs(h.deps.store)).map((j) => j.jobId)).toEqual([otherId]);
    const b = await registeredAgent('b', '');
    expect((await take(b)).jobId).toBe(otherId);
    expect((await acquire(h.deps, b.auth, { capabilities: b.caps })).job).toBeNull();

    // Again, by execution ARN: nothing left to stop or cancel.
    const again = await kiln(['builds', 'cancel', build.executionArn, '--json'], { KILN_AGENT_TABLE: TABLE });
    expect(JSON.parse(again.stdout)).toMatchObject({
      buildId: build.buildId,
      executionStatus: 'ABORTED',
      stopped: false,
      agentJobs: [{ jobId: job.jobId, was: 'LEASED', now: 'CANCEL REQUESTED', agentId: agent.agentId }],
    });
  });

  it('refuses an unknown build or a missing state machine before changing anything', async () => {
    const build = await runningBuild('exec-cancel-2');
    await enqueue(h.deps, { ...enqueueInput('q2'), buildId: build.buildId });
    const noMachine = await kiln(['builds', 'cancel', build.buildId], {
      KILN_BUILDS_TABLE: BUILDS_TABLE,
      KILN_AGENT_TABLE: TABLE,
    });
    expect([noMachine.code, noMachine.stderr]).toEqual([1, expect.stringContaining('KILN_STATE_MACHINE_ARN')]);
    const unknown = await kiln(['builds', 'cancel', 'kb-00000000000000000000'], {
      KILN_STATE_MACHINE_ARN: build.stateMachineArn,
      KILN_BUILDS_TABLE: BUILDS_TABLE,
      KILN_AGENT_TABLE: TABLE,
    });
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringContaining('no build kb-00000000000000000000')]);
    const noExecution = await kiln(['builds', 'cancel', `${build.executionArn}-gone`], { KILN_AGENT_TABLE: TABLE });
    expect([noExecution.code, noExecution.stderr]).toEqual([1, expect.stringContaining('no execution')]);
    expect((await listQueuedJobs(h.deps.store)).map((j) => j.buildId)).toEqual([build.buildId]);
    expect(await status(build.executionArn)).toBe('RUNNING');
  });
});

describe('a cancelled job whose agent goes silent', () => {
  it('is never offered again and ends CANCELLED at the sweep', async () => {
    const a = await registeredAgent('a', '');
    const b = await registeredAgent('b', '');
    await enqueue(h.deps, enqueueInput(3));
    const job = await take(a);
    await requestCancel(h.deps.store, job.jobId);
    h.setClock(at(200)); // a's lease (90 s) ran out without a heartbeat
    expect((await acquire(h.deps, b.auth, { capabilities: b.caps })).job).toBeNull();
    const report = await sweep(h.deps);
    expect([report.cancelled, report.reoffered]).toEqual([[job.jobId], []]);
    expect((await getJob(h.deps.store, job.jobId))?.status).toBe('CANCELLED');
    const failure = h.sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
    expect(failure?.error).toBe('Kiln.BuildCancelled');
  });
});
