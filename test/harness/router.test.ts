import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
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
import { localClientConfig } from '../../harness/clients.ts';
import { type LocalAws, startLocalAws } from '../../harness/local-aws.ts';

const FUNCTIONS: FunctionSpec[] = ['Echo', 'Fail'].map((id) => ({
  id,
  dir: id.toLowerCase(),
  description: `router fixture ${id}`,
  env: ['artifactsBucket', 'functionId'],
  permissions: [],
  timeoutSeconds: 2,
  memoryMb: 256,
}));
const ROLE = 'arn:aws:iam::123456789012:role/kiln-test';

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
  const role = {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        // The harness acts as the role (as the deploy does for Kiln's stack: cfn-transform.ts).
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com', AWS: trusted }, Action: 'sts:AssumeRole' },
        ],
      },
      Policies: [
        {
          PolicyName: 'read-artifacts',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${bucketValue}` }],
          },
        },
      ],
    },
  };
  return JSON.stringify({ Resources: { Role: role, Echo: fn('Echo', 5), Fail: fn('Fail', 1) } });
}

async function runMachine(aws: LocalAws, definition: object, input: object): Promise<DescribeExecutionCommandOutput> {
  const sfn = new SFNClient(localClientConfig(aws.endpoint));
  const { stateMachineArn } = await sfn.send(
    new CreateStateMachineCommand({ name: `m${Date.now()}`, definition: JSON.stringify(definition), roleArn: ROLE }),
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
    const invoke = (name: string, payload: object) =>
      fetch(`${aws.endpoint}/2015-03-31/functions/${encodeURIComponent(name)}/invocations`, {
        method: 'POST',
        body: JSON.stringify(payload),
      });
    const hang = await invoke(functionArn('kiln-fail'), { mode: 'hang' });
    expect(hang.status).toBe(200);
    expect(hang.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(await hang.json()).toMatchObject({ errorType: 'Sandbox.Timedout' });
    const missing = await invoke('no-such-function', {});
    expect(missing.status).toBe(404);
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

  const invokeDirect = async (name: string, payload: object) => {
    const response = await fetch(`${aws.endpoint}/2015-03-31/functions/${name}/invocations`, {
      method: 'POST',
      body: JSON.stringify(payload),
    });
    return {
      error: response.headers.get('x-amz-function-error'),
      body: (await response.json()) as Record<string, unknown>,
    };
  };

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
