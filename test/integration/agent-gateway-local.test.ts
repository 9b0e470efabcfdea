/**
 * The agent gateway as deployed, over real HTTP: the synthesized stack in moto, its REST API served by the harness's
 * API Gateway front from the template's routes (harness/api-front.ts), each request running the function's real
 * bundle with its own role; the sweep fired by the schedule timer from the template's rule. A registration token
 * is made against the deployed table with the harness's admin credentials (as `kiln agents token create` does),
 * then an agent registers, polls an empty queue, is refused with a bad credential, the sweep runs on its timer, a
 * queued job is leased (presigned download, heartbeat, a presigned upload and complete on `/jobs/{jobId}/…`);
 * afterwards every AWS call the gateway's roles made is replayed against their deployed policies. Job task tokens belong to no execution
 * here (the agent branch of the build state machine is the lead's), so Step Functions answers InvalidToken.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as z from 'zod/mini';
import {
  AGENT_ROUTES,
  acquireResponseSchema,
  authorizationHeader,
  completeResponseSchema,
  deregisterResponseSchema,
  errorResponseSchema,
  heartbeatResponseSchema,
  jobRoutePath,
  registerResponseSchema,
  uploadsResponseSchema,
} from '../../aws/agent-gateway-contract.ts';
import { type AgentStoreContext, createRegistrationToken, enqueueJob, getJob } from '../../aws/agent-gateway-store.ts';
import { jobIdForTaskToken } from '../../core/agents/credentials.ts';
import { DEFAULT_LEASE_POLICY } from '../../core/agents/lease.ts';
import { localClientConfig } from '../../harness/clients.ts';
import { formatDenials, type IamGuard } from '../../harness/iam-guard.ts';
import { type KilnLocal, startKilnLocal } from '../../harness/kiln-local.ts';
import { capabilities, enqueueInput } from './agent-gateway-fixtures.ts';

const HEARTBEAT_SECONDS = 5;
const SCHEDULE_SECONDS = 2;

describe('the agent gateway in the local stack, over HTTP', () => {
  let kiln: KilnLocal;
  let url: string;
  let store: AgentStoreContext;

  beforeAll(async () => {
    kiln = await startKilnLocal({
      scheduleSeconds: SCHEDULE_SECONDS,
      agents: { heartbeatSeconds: HEARTBEAT_SECONDS, queueTimeoutSeconds: 300, pollIntervalMs: 200 },
    });
    url = kiln.agentGatewayUrl ?? '';
    store = {
      dynamo: new DynamoDBClient(localClientConfig(kiln.aws.endpoint, kiln.deployment.region)),
      table: kiln.agentTable ?? '',
      policy: DEFAULT_LEASE_POLICY,
      now: () => new Date(),
    };
    // A cold synthesis takes 1-2 min; a cached one is milliseconds.
  }, 300_000);
  afterAll(async () => {
    await kiln?.stop();
  });

  const call = (route: keyof typeof AGENT_ROUTES, body: unknown, authorization?: string) =>
    fetch(new URL(AGENT_ROUTES[route].path.slice(1), url), {
      method: AGENT_ROUTES[route].method,
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: JSON.stringify(body),
    });
  const errorOf = async (response: Response) => errorResponseSchema.parse(await response.json());

  it('serves the stage URL the AgentGatewayUrl output names, and the deployed table', () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/$/);
    // moto's own value of the output: the stage's name where moto had written "None".
    expect(kiln.deployment.outputs.AgentGatewayUrl).toMatch(
      /^https:\/\/\w+\.execute-api\.us-east-1\.amazonaws\.com\/v1\/$/,
    );
    expect(kiln.agentTable).toBe(kiln.deployment.outputs.AgentTableName);
    expect(Object.values(kiln.deployment.transform.dropped)).toContain('AWS::ApiGateway::Stage');
  });

  let agent: z.infer<typeof registerResponseSchema>;

  it('registers with a one-time token, polls an empty queue, refuses a bad credential and an unknown route', async () => {
    const { token } = await createRegistrationToken(store, { labels: ['local-lab'] });
    const registered = await call('register', { token, name: 'lab-1', capabilities: capabilities() });
    expect(registered.status).toBe(200);
    agent = registerResponseSchema.parse(await registered.json());
    expect(agent.labels).toEqual(['local-lab']);
    // The harness's lease policy reached the deployed function (the deployed default is 30).
    expect(agent.heartbeatSeconds).toBe(HEARTBEAT_SECONDS);

    const again = await call('register', { token, name: 'lab-2', capabilities: capabilities() });
    expect(again.status).toBe(401);
    expect((await errorOf(again)).error.code).toBe('TokenInvalid');

    const empty = await call(
      'acquire',
      { capabilities: capabilities(), waitSeconds: 1 },
      authorizationHeader('agent', agent.credential),
    );
    expect(empty.status).toBe(200);
    expect(acquireResponseSchema.parse(await empty.json())).toMatchObject({ job: null });

    const [id] = agent.credential.split('.');
    const wrong = await call(
      'acquire',
      { capabilities: capabilities() },
      authorizationHeader('agent', `${id}.not-the-secret`),
    );
    expect(wrong.status).toBe(401);
    expect((await errorOf(wrong)).error.code).toBe('Unauthorized');
    const missing = await call('acquire', { capabilities: capabilities() });
    expect(missing.status).toBe(401);

    const unknown = await fetch(new URL('jobs', url), { method: 'POST', body: '{}' });
    expect(unknown.status).toBe(403);
    expect(await unknown.json()).toEqual({ message: 'Missing Authentication Token' });

    const served = kiln.apiFronts.get([...kiln.apiFronts.keys()][0] ?? '')?.requests ?? [];
    expect(served.filter((r) => r.functionName).map((r) => r.status)).toEqual([200, 401, 200, 401, 401]);
    expect(served.map((r) => r.resource ?? '(none)')).toEqual([
      '/agents/register',
      '/agents/register',
      '/jobs/acquire',
      '/jobs/acquire',
      '/jobs/acquire',
      '(none)',
    ]);
  });

  it('fires the sweep on its timer through the deployed function; it heartbeats a waiting job whose task is gone', async () => {
    // A job no agent matches (its label), queued with a task token of no execution: the sweep tells the task it
    // is waiting (SendTaskHeartbeat, through the router to moto's Step Functions).
    const input = enqueueInput('local-1', { builderType: 'vmware-iso', labels: ['elsewhere'] });
    await enqueueJob(store, input);
    const sweeps = () => kiln.aws.router.invoker.invocations.filter((i) => i.functionId === 'AgentSweep');
    const deadline = Date.now() + 45_000;
    const before = sweeps().length;
    while (sweeps().length < before + 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    const fired = sweeps();
    expect(fired.length).toBeGreaterThanOrEqual(before + 2);
    expect(fired.map((i) => i.errorType ?? 'ok')).toEqual(fired.map(() => 'ok'));
    expect(kiln.schedules.firings.every((f) => f.status === 202)).toBe(true);
    expect(kiln.schedules.refused).toEqual([]);
    // No execution holds that task token: Step Functions answers InvalidToken and the sweep drops the job.
    const job = await getJob(store, jobIdForTaskToken(input.taskToken));
    expect(job?.status).toBe('CANCELLED');
  }, 60_000);

  it('leases a job over HTTP: the presigned download, a heartbeat and a complete on the job routes', async () => {
    const input = enqueueInput('local-2', { labels: ['local-lab'] });
    const bundle = Buffer.from('a template bundle, as PrepareBuild stages it');
    const s3 = new S3Client(localClientConfig(kiln.aws.endpoint, kiln.deployment.region));
    await s3.send(
      new PutObjectCommand({ Bucket: kiln.deployment.artifactsBucket, Key: input.payload.bundle.key, Body: bundle }),
    );
    await enqueueJob(store, input);
    const auth = authorizationHeader('agent', agent.credential);
    const leased = await call('acquire', { capabilities: capabilities(), waitSeconds: 0 }, auth);
    expect(leased.status).toBe(200);
    const { job } = acquireResponseSchema.parse(await leased.json());
    if (!job) throw new Error('expected the queued job');
    expect(job.jobId).toBe(jobIdForTaskToken(input.taskToken));
    expect(job.heartbeatSeconds).toBe(HEARTBEAT_SECONDS);

    // The URL the acquire function presigned with its role: S3 serves it (moto, through the router).
    const download = await fetch(job.downloads.bundle);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(bundle);

    const jobAuth = authorizationHeader('job', job.credential);
    const route = (name: 'heartbeat' | 'complete' | 'uploads', body: unknown) =>
      fetch(new URL(jobRoutePath(name, job.jobId).slice(1), url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: jobAuth },
        body: JSON.stringify(body),
      });
    const beat = await route('heartbeat', { progress: 'provisioner 1/1' });
    expect(beat.status).toBe(200);
    // No execution holds this task token: the gateway tells the agent to stop.
    expect(heartbeatResponseSchema.parse(await beat.json())).toMatchObject({ cancel: true });
    // The uploads function presigns a PUT with its role (s3:PutObject under agent-artifacts/ only): S3 takes it.
    const notes = 'release notes\n';
    const asked = await route('uploads', { files: [{ name: 'out/release-notes.txt', size: notes.length }] });
    expect(asked.status).toBe(200);
    const [upload] = uploadsResponseSchema.parse(await asked.json()).uploads;
    expect(upload?.key).toBe('agent-artifacts/b-local-2/null.example/out/release-notes.txt');
    const put = await fetch(upload?.url ?? '', { method: 'PUT', body: notes });
    expect(put.status, await put.text()).toBe(200);
    const object = await s3.send(new GetObjectCommand({ Bucket: kiln.deployment.artifactsBucket, Key: upload?.key }));
    expect(await object.Body?.transformToString()).toBe(notes);
    const done = await route('complete', { outcome: 'failed', kind: 'cancelled', reason: 'told to stop' });
    expect(done.status).toBe(200);
    expect(completeResponseSchema.parse(await done.json())).toEqual({
      jobId: job.jobId,
      status: 'CANCELLED',
      repeated: false,
    });
    const otherJob = await fetch(new URL(jobRoutePath('heartbeat', 'job-not-this-one').slice(1), url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: jobAuth },
      body: '{}',
    });
    expect(otherJob.status).toBe(403);
    expect((await errorOf(otherJob)).error.code).toBe('Forbidden');
  });

  it('measures the front: per-request time inside it beyond the invocation, and the client round trip', async () => {
    const front = kiln.apiFronts.get([...kiln.apiFronts.keys()][0] ?? '');
    const from = front?.requests.length ?? 0;
    const client: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const response = await call(
        'acquire',
        { capabilities: capabilities(), waitSeconds: 0 },
        authorizationHeader('agent', agent.credential),
      );
      await response.arrayBuffer();
      client.push(performance.now() - started);
      expect(response.status).toBe(200);
    }
    // The same request as a signed Lambda Invoke through the router (IAM check included), the SDK's way in.
    const lambda = new LambdaClient(localClientConfig(kiln.aws.endpoint, kiln.deployment.region));
    const acquireFunction = kiln.deployment.resources.find((r) =>
      r.logicalId.startsWith('PipelineAgentAcquireFunction'),
    )?.physicalId;
    const direct: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const out = await lambda.send(
        new InvokeCommand({
          FunctionName: acquireFunction,
          Payload: JSON.stringify({
            headers: { authorization: authorizationHeader('agent', agent.credential) },
            body: JSON.stringify({ capabilities: capabilities(), waitSeconds: 0 }),
            isBase64Encoded: false,
            pathParameters: null,
          }),
        }),
      );
      direct.push(performance.now() - started);
      expect(JSON.parse(Buffer.from(out.Payload ?? []).toString('utf8'))).toMatchObject({ statusCode: 200 });
    }
    const served = (front?.requests ?? []).slice(from);
    expect(served).toHaveLength(20);
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
    const invoke = median(served.map((r) => r.invokeMs ?? NaN));
    const inside = median(served.map((r) => r.totalMs - (r.invokeMs ?? 0)));
    const roundTrip = median(client.map((ms, i) => ms - (served[i]?.invokeMs ?? 0)));
    console.log(
      `api front, 20 acquires (waitSeconds 0), medians: over HTTP through the front ${median(client).toFixed(1)} ms (invocation ${invoke.toFixed(1)} ms, the front's own work ${inside.toFixed(2)} ms, HTTP round trip beyond the invocation ${roundTrip.toFixed(1)} ms); signed Lambda Invoke through the router ${median(direct).toFixed(1)} ms`,
    );
    expect(inside).toBeLessThan(invoke);
  });

  it('deregisters: the agent credential is refused from then on', async () => {
    const auth = authorizationHeader('agent', agent.credential);
    const left = await call('deregister', {}, auth);
    expect(left.status).toBe(200);
    expect(deregisterResponseSchema.parse(await left.json())).toEqual({
      agentId: agent.agentId,
      status: 'DEREGISTERED',
    });
    const refused = await call('acquire', { capabilities: capabilities() }, auth);
    expect(refused.status).toBe(403);
    expect((await errorOf(refused)).error.code).toBe('AgentRevoked');
  });

  it('AWS would have allowed every call the gateway roles made, and each is modelled', async () => {
    const iam = kiln.aws.router.iam as IamGuard;
    const gatewayCalls = iam.calls.filter((c) =>
      /Agent(Register|Deregister|Acquire|Heartbeat|Upload|Complete|Sweep)/.test(c.caller.display),
    );
    const report = await iam.replay(gatewayCalls);
    expect(report.unmodelled).toEqual({});
    expect(report.denied, formatDenials(report.denied)).toEqual([]);
    const checked = new Set(gatewayCalls.flatMap((c) => (c.requests ?? []).map((r) => r.action)));
    for (const action of ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query']) {
      expect(checked, action).toContain(action);
    }
    // s3:PutObject: the presigned upload, made with the uploads function's role (its only S3 action).
    for (const action of ['states:SendTaskHeartbeat', 'states:SendTaskFailure', 's3:GetObject', 's3:PutObject']) {
      expect(checked, action).toContain(action);
    }
    const query = gatewayCalls.flatMap((c) => c.requests ?? []).find((r) => r.action === 'dynamodb:Query');
    expect(query?.resource).toMatch(/:table\/.+\/index\/byState$/);
  });
});
