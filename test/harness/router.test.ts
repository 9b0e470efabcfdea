import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FunctionSpec } from '../../functions/registry.ts';
import { fixedClientConfig, type LocalCredentials, localClientConfig } from '../../harness/clients.ts';
import { type LocalAws, startLocalAws } from '../../harness/local-aws.ts';

const FUNCTIONS: FunctionSpec[] = ['Echo', 'Fail'].map((id) => ({
  id,
  dir: id.toLowerCase(),
  description: `router fixture ${id}`,
  env: ['artifactsBucket', 'functionId'],
  permissions: [],
  timeoutSeconds: 2,
  memoryMb: 256,
  trigger: { kind: 'task', stateMachine: 'build' },
}));
const ROLE = 'arn:aws:iam::123456789012:role/kiln-test';
const ECHO_ONLY_ROLE = 'arn:aws:iam::123456789012:role/kiln-test-echo-only';

/** The fixture functions as CloudFormation creates them from a stack (env resolved, inline code unused). */
function stackTemplate(bucketValue: string, trusted: string): string {
  const fn = (id: string, timeout: number) => ({
    Type: 'AWS::Lambda::Function',
    Properties: {
      FunctionName: `kiln-${id.toLowerCase()}`,
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
      Timeout: timeout,
      Code: { ZipFile: 'exports.handler = async () => { throw new Error("runs in the router, not here"); };' },
      Environment: { Variables: { KILN_ARTIFACTS_BUCKET: bucketValue, KILN_FUNCTION_ID: id } },
    },
  });
  const role = (name: string) => ({
    Type: 'AWS::IAM::Role',
    Properties: {
      RoleName: name,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        // The harness acts as the role (as the deploy does for Kiln's stack: cfn-transform.ts).
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: ['lambda.amazonaws.com', 'states.amazonaws.com'], AWS: trusted },
            Action: 'sts:AssumeRole',
          },
        ],
      },
    },
  });
  // AWS::IAM::Policy, not the role's inline Policies: moto's IAM cannot read those (harness/README.md).
  const policy = (roleRef: string, statements: object[]) => ({
    Type: 'AWS::IAM::Policy',
    Properties: {
      PolicyName: `${roleRef}-access`,
      Roles: [{ Ref: roleRef }],
      PolicyDocument: { Version: '2012-10-17', Statement: statements },
    },
  });
  const listArtifacts = { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${bucketValue}` };
  const invoke = (...names: string[]) => ({
    Effect: 'Allow',
    Action: 'lambda:InvokeFunction',
    Resource: names.map((n) => `arn:aws:lambda:us-east-1:123456789012:function:${n}`),
  });
  return JSON.stringify({
    Resources: {
      Role: role('kiln-test'),
      RolePolicy: policy('Role', [listArtifacts, invoke('kiln-echo', 'kiln-fail')]),
      // A role that may invoke one function only: what a missing grant looks like.
      EchoOnly: role('kiln-test-echo-only'),
      EchoOnlyPolicy: policy('EchoOnly', [invoke('kiln-echo')]),
      Echo: fn('Echo', 5),
      Fail: fn('Fail', 1),
    },
  });
}

async function runMachine(
  aws: LocalAws,
  definition: object,
  input: object,
  roleArn = ROLE,
): Promise<DescribeExecutionCommandOutput> {
  const sfn = new SFNClient(localClientConfig(aws.endpoint));
  const { stateMachineArn } = await sfn.send(
    new CreateStateMachineCommand({ name: `m${Date.now()}`, definition: JSON.stringify(definition), roleArn }),
  );
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
  for (;;) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING') return execution;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('router: Lambda invocations from moto served by the real handler code', () => {
  let aws: LocalAws;
  const functionArn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
  beforeAll(async () => {
    aws = await startLocalAws({
      functions: FUNCTIONS,
      functionCode: {
        kind: 'fixture-sources',
        functionsRoot: new URL('../fixtures/harness/functions', import.meta.url).pathname,
      },
    });
  });
  afterAll(async () => {
    await aws?.stop();
  });
  beforeEach(async () => {
    await aws.reset();
    const cfn = new CloudFormationClient(localClientConfig(aws.endpoint));
    await cfn.send(
      new CreateStackCommand({ StackName: 'fns', TemplateBody: stackTemplate('artifacts-1', aws.moto.admin().arn) }),
    );
    const stack = await cfn.send(new DescribeStacksCommand({ StackName: 'fns' }));
    expect(stack.Stacks?.[0]?.StackStatus).toBe('CREATE_COMPLETE');
  });

  it('runs the handler in its own process with the deployed environment, for a state machine in moto', async () => {
    const done = await runMachine(
      aws,
      {
        StartAt: 'Call',
        States: {
          Call: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Parameters: { FunctionName: functionArn('kiln-echo'), 'Payload.$': '$' },
            OutputPath: '$.Payload',
            End: true,
          },
        },
      },
      { hello: 'kiln' },
    );
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output ?? '{}')).toEqual({
      event: { hello: 'kiln' },
      bucketAtColdStart: 'artifacts-1',
      endpoint: aws.endpoint,
      functionName: 'kiln-echo',
      remainingPositive: true,
      memoryLimitInMB: '128',
      pid: expect.any(Number),
    });
    expect(JSON.parse(done.output ?? '{}').pid).not.toBe(process.pid);
    expect(aws.router.invoker.invocations.map((i) => i.functionId)).toContain('Echo');
  });

  it('turns a thrown Kiln error into a Lambda function error that a Catch on its name handles', async () => {
    const done = await runMachine(
      aws,
      {
        StartAt: 'Call',
        States: {
          Call: {
            Type: 'Task',
            Resource: functionArn('kiln-fail'),
            Catch: [{ ErrorEquals: ['Kiln.ProvisionerFailed'], ResultPath: '$.error', Next: 'Caught' }],
            End: true,
          },
          Caught: { Type: 'Pass', End: true },
        },
      },
      {},
    );
    expect(done.status).toBe('SUCCEEDED');
    const output = JSON.parse(done.output ?? '{}') as { error: { Error: string; Cause: string } };
    expect(output.error.Error).toBe('Kiln.ProvisionerFailed');
    expect(JSON.parse(output.error.Cause)).toMatchObject({
      errorType: 'Kiln.ProvisionerFailed',
      errorMessage: 'script exited with code 3',
    });
  });

  it('answers a direct invoke in the Lambda wire format, with the function timeout enforced', async () => {
    const hang = await invokeDirect(functionArn('kiln-fail'), { mode: 'hang' });
    expect(hang.status).toBe(200);
    expect(hang.error).toBe('Unhandled');
    expect(hang.body).toMatchObject({ errorType: 'Sandbox.Timedout' });
    const missing = await invokeDirect('no-such-function', {}).catch((e: unknown) => e);
    expect(missing).toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });
  });

  it('re-reads the environment after a reset and a new deployment', async () => {
    await runMachine(
      aws,
      { StartAt: 'C', States: { C: { Type: 'Task', Resource: functionArn('kiln-echo'), End: true } } },
      {},
    );
    await aws.reset();
    const cfn = new CloudFormationClient(localClientConfig(aws.endpoint));
    await cfn.send(
      new CreateStackCommand({ StackName: 'fns2', TemplateBody: stackTemplate('artifacts-2', aws.moto.admin().arn) }),
    );
    const done = await runMachine(
      aws,
      { StartAt: 'C', States: { C: { Type: 'Task', Resource: functionArn('kiln-echo'), End: true } } },
      {},
    );
    expect(JSON.parse(done.output ?? '{}')).toMatchObject({ bucketAtColdStart: 'artifacts-2' });
  });

  /** A direct Invoke signed as `credentials` (default: the harness's admin), in the Lambda wire format. */
  const invokeDirect = async (name: string, payload: object, credentials?: LocalCredentials) => {
    const lambda = new LambdaClient(
      credentials ? fixedClientConfig(aws.endpoint, 'us-east-1', credentials) : localClientConfig(aws.endpoint),
    );
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: name, Payload: new TextEncoder().encode(JSON.stringify(payload)) }),
    );
    return {
      status: out.StatusCode,
      error: out.FunctionError ?? null,
      body: JSON.parse(new TextDecoder().decode(out.Payload)) as Record<string, unknown>,
    };
  };

  it("refuses an invoke the caller's policies do not allow, with AWS's AccessDeniedException", async () => {
    const echoOnly = await aws.roles.forRole(ECHO_ONLY_ROLE, 'probe');
    const before = aws.router.invoker.invocations.length;
    expect((await invokeDirect('kiln-echo', {}, echoOnly)).body.functionName).toBe('kiln-echo');
    const denied = await invokeDirect('kiln-fail', { mode: 'pid' }, echoOnly).catch((e: unknown) => e);
    expect(denied).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } });
    expect((denied as Error).message).toBe(
      'User: arn:aws:sts::123456789012:assumed-role/kiln-test-echo-only/probe is not authorized to perform: ' +
        'lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:123456789012:function:kiln-fail ' +
        'because no identity-based policy allows the lambda:InvokeFunction action',
    );
    // Denied before it ran: no environment was started for it.
    expect(aws.router.invoker.invocations.slice(before).map((i) => i.functionId)).toEqual(['Echo']);
  });

  it("fails a state machine's task when the state machine's role may not invoke the function", async () => {
    const before = aws.router.invoker.invocations.length;
    const done = await runMachine(
      aws,
      { StartAt: 'C', States: { C: { Type: 'Task', Resource: functionArn('kiln-fail'), End: true } } },
      { mode: 'pid' },
      ECHO_ONLY_ROLE,
    );
    expect(done.status).toBe('FAILED');
    expect(done.cause).toContain(
      'assumed-role/kiln-test-echo-only/kiln-states is not authorized to perform: lambda:InvokeFunction on resource: ' +
        'arn:aws:lambda:us-east-1:123456789012:function:kiln-fail',
    );
    expect(aws.router.invoker.invocations.length).toBe(before);
  });

  it.each([
    ['unsigned', {}, 403, 'MissingAuthenticationTokenException'],
    [
      'signed with a key nobody was issued',
      {
        Authorization:
          'AWS4-HMAC-SHA256 Credential=AKIAFORGED000000000/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=00',
      },
      403,
      'UnrecognizedClientException',
    ],
    [
      'with a key in a malformed Authorization header',
      { Authorization: 'AWS4-HMAC-SHA256 Signature=00' },
      403,
      'MissingAuthenticationTokenException',
    ],
  ])('refuses an invoke %s', async (_label, headers, status, type) => {
    const before = aws.router.invoker.invocations.length;
    const response = await fetch(`${aws.endpoint}/2015-03-31/functions/kiln-echo/invocations`, {
      method: 'POST',
      headers,
      body: '{}',
    });
    expect(response.status).toBe(status);
    expect(response.headers.get('x-amzn-errortype')).toBe(type);
    expect(aws.router.invoker.invocations.length).toBe(before);
  });

  it("signs the handler's AWS calls with credentials of the function's own role", async () => {
    const { body } = await invokeDirect('kiln-echo', { whoami: true });
    expect(body.caller).toMatch(/^arn:aws:sts::123456789012:assumed-role\/[^/]+\/lambda$/);
    expect(body.caller).not.toContain('kiln-harness-admin');
  });

  it('keeps an environment warm between invocations, one process per function', async () => {
    const first = await invokeDirect('kiln-echo', {});
    const second = await invokeDirect('kiln-echo', {});
    const other = await invokeDirect('kiln-fail', { mode: 'pid' });
    expect(second.body.pid).toBe(first.body.pid);
    expect(other.body.pid).not.toBe(first.body.pid);
  });

  it('answers a crash with Runtime.ExitError and starts a fresh process for the next invocation', async () => {
    const before = await invokeDirect('kiln-fail', { mode: 'pid' });
    const crash = await invokeDirect('kiln-fail', { mode: 'exit' });
    expect(crash.error).toBe('Unhandled');
    expect(crash.body).toMatchObject({ errorType: 'Runtime.ExitError' });
    expect(String(crash.body.errorMessage)).toContain('exit status 7');
    const after = await invokeDirect('kiln-fail', { mode: 'pid' });
    expect(after.error).toBeNull();
    expect(after.body.pid).not.toBe(before.body.pid);
  });

  it('kills the process on a timeout, so the next invocation is a cold start', async () => {
    const before = await invokeDirect('kiln-fail', { mode: 'pid' });
    expect((await invokeDirect('kiln-fail', { mode: 'hang' })).body).toMatchObject({ errorType: 'Sandbox.Timedout' });
    const after = await invokeDirect('kiln-fail', { mode: 'pid' });
    expect(after.body.pid).not.toBe(before.body.pid);
    expect(() => process.kill(before.body.pid as number, 0)).toThrow();
  });

  it('pipes every other request to moto unchanged', async () => {
    const s3 = new S3Client(localClientConfig(aws.endpoint));
    await s3.send(new CreateBucketCommand({ Bucket: 'through-the-router' }));
    const direct = new S3Client(localClientConfig(aws.moto.endpoint));
    const buckets = await direct.send(new ListBucketsCommand({}));
    expect(buckets.Buckets?.map((b) => b.Name)).toContain('through-the-router');
  });
});
