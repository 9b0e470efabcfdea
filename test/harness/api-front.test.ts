/**
 * The local API Gateway front on the agent gateway's API as CDK synthesizes it (a fixture cut from the real
 * template: RestApi, resource tree, methods, stage, permissions, schedule rule), with a recording stand-in for
 * the router's Lambda invoker: the routes come from the template, the proxy event has API Gateway's shape, and
 * API Gateway's own answers (403 unknown route, 429 throttle, 500 missing permission, 502 function error, 504
 * timeout, 413 body size) come back where AWS gives them.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { AGENT_ROUTES } from '../../aws/agent-gateway-contract.ts';
import { type ApiFront, type ApiFrontOptions, startApiFront, TokenBucket } from '../../harness/api-front.ts';
import { apisOfTemplate, rateSeconds, schedulesOfTemplate, type TemplateApi } from '../../harness/api-template.ts';
import type { CfnTemplate } from '../../harness/cfn-transform.ts';
import { transformForMoto } from '../../harness/cfn-transform.ts';
import type { InvokeResult } from '../../harness/lambda-invoker.ts';
import { scheduledEvent, startScheduleTimer } from '../../harness/schedule-timer.ts';

const CONTEXT = { region: 'us-east-1', account: '123456789012' };
const template = (): CfnTemplate =>
  JSON.parse(
    readFileSync(new URL('../fixtures/harness/cdk/agent-gateway-api.template.json', import.meta.url), 'utf8'),
  ) as CfnTemplate;
const API_ID = 'AgentGatewayApi60747114';
const HEARTBEAT_FN = 'PipelineAgentHeartbeatFunction01EF68E3';
const REGISTER_FN = 'PipelineAgentRegisterFunction58A2B168';

/** Deployed names: the function's logical id with a suffix, as CloudFormation names them. */
function physicalIds(t: CfnTemplate): Map<string, string> {
  return new Map(Object.keys(t.Resources).map((id) => [id, id === API_ID ? 'abc123api' : `Kiln-${id}-X1`]));
}

interface Invocation {
  readonly functionName: string;
  readonly event: Record<string, unknown>;
}

const ok = (body: unknown, statusCode = 200): InvokeResult => ({
  status: 200,
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
});

let front: ApiFront | undefined;
afterEach(async () => {
  await front?.stop();
  front = undefined;
});

async function start(
  answer: (invocation: Invocation) => Promise<InvokeResult> | InvokeResult = () => ok({ fine: true }),
  over: Partial<ApiFrontOptions> & { api?: TemplateApi } = {},
): Promise<{ front: ApiFront; invocations: Invocation[] }> {
  const t = template();
  const [api] = apisOfTemplate(t, CONTEXT);
  const invocations: Invocation[] = [];
  front = await startApiFront({
    api: api as TemplateApi,
    ...CONTEXT,
    physicalIds: physicalIds(t),
    invoke: async (functionName, payload) => {
      const invocation = { functionName, event: JSON.parse(payload) as Record<string, unknown> };
      invocations.push(invocation);
      return answer(invocation);
    },
    ...over,
  });
  return { front, invocations };
}

const post = (f: ApiFront, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(new URL(path, f.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('the API read from the synthesized template', () => {
  it('has one method per contract route, each a Lambda proxy to its function, and the v1 stage throttle', () => {
    const [api] = apisOfTemplate(template(), CONTEXT);
    const routes = api?.methods.map((m) => `${m.httpMethod} ${m.resourcePath} ${m.integrationType}`).sort();
    expect(routes).toEqual(
      Object.values(AGENT_ROUTES)
        .map((r) => `${r.method} ${r.path} AWS_PROXY`)
        .sort(),
    );
    expect(api?.methods.find((m) => m.resourcePath === '/jobs/{jobId}/heartbeat')?.functionId).toBe(HEARTBEAT_FN);
    expect(api?.stages).toEqual([
      expect.objectContaining({ stageName: 'v1', throttle: { rateLimit: 50, burstLimit: 100 } }),
    ]);
  });

  it('reads the schedule rule, its target and its rate', () => {
    const [schedule] = schedulesOfTemplate(template(), CONTEXT);
    expect(schedule).toMatchObject({ expression: 'rate(1 minute)', enabled: true });
    expect(schedule?.functionIds).toEqual(['PipelineAgentSweepFunctionAEA27236']);
    expect(rateSeconds('rate(1 minute)')).toBe(60);
    expect(rateSeconds('rate(2 hours)')).toBe(7200);
    expect(rateSeconds('cron(0 12 * * ? *)')).toBeUndefined();
  });
});

describe('the front', () => {
  it('builds the REST proxy event and answers with the function result', async () => {
    const { front: f, invocations } = await start(() => ({
      status: 200,
      headers: {},
      body: JSON.stringify({
        statusCode: 409,
        headers: { 'content-type': 'application/json', 'x-kiln': 'yes' },
        body: '{"error":{"code":"LeaseLost","message":"gone"}}',
      }),
    }));
    expect(f.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/$/);
    const response = await post(
      f,
      'jobs/job%2D7/heartbeat?x=1&x=2',
      { progress: 'p' },
      {
        Authorization: 'Kiln-Job job-7.s',
      },
    );
    expect(response.status).toBe(409);
    expect(response.headers.get('x-kiln')).toBe('yes');
    expect(await response.json()).toEqual({ error: { code: 'LeaseLost', message: 'gone' } });

    expect(invocations).toHaveLength(1);
    const { functionName, event } = invocations[0] as Invocation;
    expect(functionName).toBe(`Kiln-${HEARTBEAT_FN}-X1`);
    expect(event).toMatchObject({
      resource: '/jobs/{jobId}/heartbeat',
      path: '/jobs/job%2D7/heartbeat',
      httpMethod: 'POST',
      pathParameters: { jobId: 'job-7' },
      queryStringParameters: { x: '2' },
      multiValueQueryStringParameters: { x: ['1', '2'] },
      stageVariables: null,
      body: '{"progress":"p"}',
      isBase64Encoded: false,
      requestContext: {
        stage: 'v1',
        apiId: 'abc123api',
        accountId: '123456789012',
        httpMethod: 'POST',
        resourcePath: '/jobs/{jobId}/heartbeat',
        path: '/v1/jobs/job%2D7/heartbeat',
      },
    });
    expect((event.headers as Record<string, string>).Authorization).toBe('Kiln-Job job-7.s');
    expect((event.requestContext as { requestId: string }).requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(f.requests.at(-1)).toMatchObject({ status: 409, resource: '/jobs/{jobId}/heartbeat' });
  });

  it('answers 403 Missing Authentication Token for an unknown path, method or stage, invoking nothing', async () => {
    const { front: f, invocations } = await start();
    const base = new URL(f.url);
    for (const [method, path] of [
      ['POST', '/v1/jobs/nothing-here'],
      ['GET', '/v1/jobs/acquire'],
      ['POST', '/v1/jobs/j-1'],
      ['POST', '/v2/jobs/acquire'],
      ['POST', '/jobs/acquire'],
    ] as const) {
      const response = await fetch(new URL(path, base), { method, ...(method === 'POST' ? { body: '{}' } : {}) });
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(response.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
      expect(await response.json()).toEqual({ message: 'Missing Authentication Token' });
    }
    expect(invocations).toHaveLength(0);
  });

  it('throttles with the stage token bucket: 429 past the burst, served again as the rate refills', async () => {
    let now = 0;
    const t = template();
    const stage = Object.values(t.Resources).find((r) => r.Type === 'AWS::ApiGateway::Stage');
    (stage?.Properties?.MethodSettings as Record<string, unknown>[])[0] = {
      HttpMethod: '*',
      ResourcePath: '/*',
      ThrottlingRateLimit: 2,
      ThrottlingBurstLimit: 3,
    };
    const [api] = apisOfTemplate(t, CONTEXT);
    const { front: f, invocations } = await start(undefined, { api: api as TemplateApi, now: () => now });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await post(f, 'agents/deregister', {})).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const throttled = await post(f, 'jobs/acquire', {});
    expect(await throttled.json()).toEqual({ message: 'Too Many Requests' });
    now += 1000; // two tokens at 2 per second
    const after: number[] = [];
    for (let i = 0; i < 3; i++) after.push((await post(f, 'jobs/acquire', {})).status);
    expect(after).toEqual([200, 200, 429]);
    expect(invocations).toHaveLength(5);
  });

  it('answers 502 Internal server error when the function fails or returns no proxy result', async () => {
    const answers: InvokeResult[] = [
      {
        status: 200,
        headers: { 'X-Amz-Function-Error': 'Unhandled' },
        body: JSON.stringify({ errorType: 'Error', errorMessage: 'boom' }),
      },
      { status: 200, headers: {}, body: JSON.stringify({ hello: 'no statusCode' }) },
      { status: 200, headers: {}, body: 'null' },
    ];
    const { front: f } = await start(() => answers.shift() as InvokeResult);
    for (let i = 0; i < 3; i++) {
      const response = await post(f, 'agents/register', {});
      expect(response.status).toBe(502);
      expect(await response.json()).toEqual({ message: 'Internal server error' });
    }
  });

  it('answers 504 when the function does not answer within the integration timeout', async () => {
    const { front: f } = await start(() => new Promise<InvokeResult>(() => undefined), { integrationTimeoutMs: 200 });
    const response = await post(f, 'jobs/acquire', {});
    expect(response.status).toBe(504);
    expect(await response.json()).toEqual({ message: 'Endpoint request timed out' });
  });

  it('answers 500 without invoking when no permission lets API Gateway invoke the function for that route', async () => {
    const t = template();
    for (const [id, r] of Object.entries(t.Resources)) {
      const fn = (r.Properties?.FunctionName as { 'Fn::GetAtt'?: string[] } | undefined)?.['Fn::GetAtt']?.[0];
      if (r.Type === 'AWS::Lambda::Permission' && fn === REGISTER_FN) delete t.Resources[id];
    }
    const [api] = apisOfTemplate(t, CONTEXT);
    const { front: f, invocations } = await start(undefined, { api: api as TemplateApi });
    const refused = await post(f, 'agents/register', {});
    expect(refused.status).toBe(500);
    expect(await refused.json()).toEqual({ message: 'Internal server error' });
    expect(invocations).toHaveLength(0);
    expect((await post(f, 'agents/deregister', {})).status).toBe(200);
  });

  it('refuses a body over the payload limit with 413', async () => {
    const { front: f, invocations } = await start(undefined, { payloadBytes: 1024 });
    const response = await post(f, 'agents/register', 'x'.repeat(2048));
    expect(response.status).toBe(413);
    expect(invocations).toHaveLength(0);
    expect((await post(f, 'agents/register', 'x'.repeat(512))).status).toBe(200);
  });
});

describe('TokenBucket', () => {
  it('starts full at the burst and refills at the rate, never above the burst', () => {
    let now = 0;
    const bucket = new TokenBucket({ rateLimit: 10, burstLimit: 2 }, () => now);
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false]);
    now += 100;
    expect([bucket.take(), bucket.take()]).toEqual([true, false]);
    now += 10_000;
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false]);
  });
});

describe('the schedule timer', () => {
  it('fires the rule target asynchronously with a scheduled event, only with the events permission', async () => {
    const t = template();
    const calls: { functionName: string; event: Record<string, unknown>; type: string }[] = [];
    const timer = startScheduleTimer({
      schedules: schedulesOfTemplate(t, CONTEXT),
      ...CONTEXT,
      physicalIds: physicalIds(t),
      intervalSeconds: 0.1,
      invoke: async (functionName, payload, type) => {
        calls.push({ functionName, event: JSON.parse(payload) as Record<string, unknown>, type });
        return { status: 202, headers: {}, body: '' };
      },
    });
    await new Promise((r) => setTimeout(r, 350));
    timer.stop();
    const fired = calls.length;
    expect(fired).toBeGreaterThanOrEqual(2);
    expect(calls[0]).toMatchObject({ functionName: 'Kiln-PipelineAgentSweepFunctionAEA27236-X1', type: 'Event' });
    expect(calls[0]?.event).toMatchObject({
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      region: 'us-east-1',
      detail: {},
      resources: ['arn:aws:events:us-east-1:123456789012:rule/Kiln-AgentGatewayAgentSweepScheduleEF00B482-X1'],
    });
    expect(timer.firings.every((f) => f.status === 202)).toBe(true);
    await new Promise((r) => setTimeout(r, 250));
    expect(calls).toHaveLength(fired);

    for (const [id, r] of Object.entries(t.Resources)) {
      if (r.Type === 'AWS::Lambda::Permission' && r.Properties?.Principal === 'events.amazonaws.com') {
        delete t.Resources[id];
      }
    }
    const without = startScheduleTimer({
      schedules: schedulesOfTemplate(t, CONTEXT),
      ...CONTEXT,
      physicalIds: physicalIds(t),
      intervalSeconds: 0.05,
      invoke: async () => {
        throw new Error('must not be invoked');
      },
    });
    without.stop();
    expect(without.refused).toEqual([
      expect.objectContaining({ reason: expect.stringMatching(/no AWS::Lambda::Permission lets events/) }),
    ]);
  });

  it('writes the scheduled time to the second', () => {
    expect(scheduledEvent('arn:r', 'us-east-1', '1').time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });
});

describe('transformForMoto on the API stage', () => {
  it('drops the stage moto cannot create and writes its name where it was referenced', () => {
    const { template: out, report } = transformForMoto(template());
    expect(report.dropped).toEqual({ AgentGatewayApiDeploymentStagev17D373870: 'AWS::ApiGateway::Stage' });
    const text = JSON.stringify(out);
    expect(text).not.toContain('AgentGatewayApiDeploymentStagev17D373870');
    const output = out.Outputs?.AgentGatewayUrl as { Value: { 'Fn::Join': [string, unknown[]] } };
    const url = output.Value['Fn::Join'][1];
    expect(url.slice(-2)).toEqual(['v1', '/']);
    const permission = Object.values(out.Resources).find(
      (r) => r.Type === 'AWS::Lambda::Permission' && JSON.stringify(r.Properties).includes('/POST/agents/register'),
    );
    expect(JSON.stringify(permission?.Properties?.SourceArn)).toContain('"v1","/POST/agents/register"');
  });
});
