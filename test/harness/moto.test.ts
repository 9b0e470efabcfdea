import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { DescribeImagesCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { localClientConfig } from '../../harness/clients.ts';
import { type MotoServer, startMoto } from '../../harness/moto.ts';

const ROLE = 'arn:aws:iam::123456789012:role/kiln-test';
const PASS = JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', Result: { ok: true }, End: true } } });

async function waitForEnd(sfn: SFNClient, executionArn: string): Promise<DescribeExecutionCommandOutput> {
  for (;;) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING') return execution;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('moto_server with the launcher patches', () => {
  let moto: MotoServer;
  let sfn: SFNClient;
  beforeAll(async () => {
    moto = await startMoto();
    sfn = new SFNClient(localClientConfig(moto.endpoint));
  });
  afterAll(async () => {
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
  });

  it('runs two executions of one state machine in a row', async () => {
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({ name: 'twice', definition: PASS, roleArn: ROLE }),
    );
    const first = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'one' }));
    const second = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'two' }));
    for (const { executionArn } of [first, second]) {
      const done = await waitForEnd(sfn, executionArn ?? '');
      expect(done.status).toBe('SUCCEEDED');
      expect(JSON.parse(done.output ?? 'null')).toEqual({ ok: true });
    }
  });

  it('gives unnamed executions distinct ARNs', async () => {
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({ name: 'unnamed', definition: PASS, roleArn: ROLE }),
    );
    const a = await sfn.send(new StartExecutionCommand({ stateMachineArn }));
    const b = await sfn.send(new StartExecutionCommand({ stateMachineArn }));
    expect(a.executionArn).not.toBe(b.executionArn);
    expect(a.executionArn).not.toMatch(/:None$/);
    expect((await waitForEnd(sfn, b.executionArn ?? '')).status).toBe('SUCCEEDED');
  });

  /** A role for the state machine, made through CloudFormation (the harness has no IAM client). */
  async function stateMachineRole(name: string, actions: string[]): Promise<string> {
    const role = {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: name,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        },
      },
    };
    // A separate AWS::IAM::Policy, as CDK writes it: moto's CloudFormation stores a role's inline `Policies` in
    // a shape its own IAM enforcement cannot read (HTTP 500).
    const policy = {
      Type: 'AWS::IAM::Policy',
      Properties: {
        PolicyName: 'calls',
        Roles: [{ Ref: 'Role' }],
        PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] },
      },
    };
    const template = JSON.stringify({ Resources: { Role: role, Policy: policy } });
    const cfn = new CloudFormationClient(localClientConfig(moto.endpoint));
    await cfn.send(new CreateStackCommand({ StackName: `role-${name}`, TemplateBody: template }));
    return `arn:aws:iam::123456789012:role/${name}`;
  }

  const runInstancesMachine = (imageId: string) =>
    JSON.stringify({
      StartAt: 'Run',
      States: {
        Run: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:ec2:runInstances',
          Parameters: { ImageId: imageId, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' },
          ResultSelector: { 'launched.$': '$.Instances[0].LaunchTime', 'id.$': '$.Instances[0].InstanceId' },
          End: true,
        },
      },
    });

  it('signs aws-sdk integrations as the state machine role, so a role without the grant is denied', async () => {
    const ec2 = new EC2Client(localClientConfig(moto.endpoint));
    const imageId = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.[0]?.ImageId;
    const roleArn = await stateMachineRole('no-run-instances', ['ec2:DescribeImages']);
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({ name: 'denied', definition: runInstancesMachine(imageId ?? ''), roleArn }),
    );
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: '{}' }));
    const done = await waitForEnd(sfn, executionArn ?? '');
    expect(done.status).toBe('FAILED');
    // moto's interpreter cannot map moto's own 403 (no RequestId) to a States error; what counts is no instance.
    const launched = await ec2.send(new DescribeInstancesCommand({}));
    expect(launched.Reservations?.flatMap((r) => r.Instances ?? []) ?? []).toEqual([]);
  });

  it('describes an execution whose output holds the dates of an aws-sdk:ec2 result', async () => {
    const ec2 = new EC2Client(localClientConfig(moto.endpoint));
    const images = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
    const imageId = images.Images?.[0]?.ImageId;
    expect(imageId).toMatch(/^ami-/);
    const definition = runInstancesMachine(imageId ?? '');
    const roleArn = await stateMachineRole('runs-instances', ['ec2:RunInstances']);
    const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: 'dates', definition, roleArn }));
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: '{}' }));
    const done = await waitForEnd(sfn, executionArn ?? '');
    expect(done.status).toBe('SUCCEEDED');
    const output = JSON.parse(done.output ?? '{}') as { launched: string; id: string };
    expect(output.id).toMatch(/^i-/);
    expect(Number.isNaN(Date.parse(output.launched))).toBe(false);
  });

  it('evaluates definite JSONPaths through an array index to a value, as AWS does', async () => {
    const definition = JSON.stringify({
      StartAt: 'P',
      States: {
        P: {
          Type: 'Pass',
          Parameters: { 'first.$': '$.items[0].x', 'all.$': '$.items[*].x', 'filtered.$': '$.items[?(@.x == 2)].x' },
          End: true,
        },
      },
    });
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({ name: 'paths', definition, roleArn: ROLE }),
    );
    const input = JSON.stringify({ items: [{ x: 1 }, { x: 2 }] });
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input }));
    const done = await waitForEnd(sfn, executionArn ?? '');
    expect(JSON.parse(done.output ?? '{}')).toEqual({ first: 1, all: [1, 2], filtered: [2] });
  });

  it('executes a state machine that CloudFormation created', async () => {
    const cfn = new CloudFormationClient(localClientConfig(moto.endpoint));
    const TemplateBody = JSON.stringify({
      Resources: {
        Machine: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: { StateMachineName: 'from-stack', DefinitionString: PASS, RoleArn: ROLE },
        },
      },
      Outputs: { Arn: { Value: { Ref: 'Machine' } } },
    });
    await cfn.send(new CreateStackCommand({ StackName: 'sfn-stack', TemplateBody }));
    const stack = await cfn.send(new DescribeStacksCommand({ StackName: 'sfn-stack' }));
    const stateMachineArn = stack.Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === 'Arn')?.OutputValue;
    expect(stateMachineArn).toMatch(/:stateMachine:from-stack$/);
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn }));
    expect((await waitForEnd(sfn, executionArn ?? '')).status).toBe('SUCCEEDED');
  });

  it('rolls a cancelled transaction back item by item, in-place updates included, as DynamoDB does', async () => {
    const dynamo = new DynamoDBClient(localClientConfig(moto.endpoint));
    const S = (value: string) => ({ S: value });
    const ranged = {
      TableName: 'ranged',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' as const },
        { AttributeName: 'sk', KeyType: 'RANGE' as const },
      ],
    };
    await dynamo.send(
      new CreateTableCommand({
        ...ranged,
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await dynamo.send(
      new CreateTableCommand({
        TableName: 'flat',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await dynamo.send(
      new PutItemCommand({ TableName: 'ranged', Item: { pk: S('P'), sk: S('COUNTER'), n: { N: '1' } } }),
    );
    await dynamo.send(new PutItemCommand({ TableName: 'ranged', Item: { pk: S('P'), sk: S('OTHER') } }));
    await dynamo.send(new PutItemCommand({ TableName: 'flat', Item: { id: S('x'), v: S('before') } }));
    const counter = { pk: S('P'), sk: S('COUNTER') };
    const write = (check: string) =>
      dynamo.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Update: {
                TableName: 'ranged',
                Key: counter,
                UpdateExpression: 'SET n = n + :one',
                ExpressionAttributeValues: { ':one': { N: '1' } },
              },
            },
            { Put: { TableName: 'ranged', Item: { pk: S('P'), sk: S('NEW') } } },
            {
              Update: {
                TableName: 'flat',
                Key: { id: S('x') },
                UpdateExpression: 'SET v = :v',
                ExpressionAttributeValues: { ':v': S('after') },
              },
            },
            {
              ConditionCheck: { TableName: 'ranged', Key: { pk: S('P'), sk: S('OTHER') }, ConditionExpression: check },
            },
          ],
        }),
      );
    const read = async () => ({
      n: (await dynamo.send(new GetItemCommand({ TableName: 'ranged', Key: counter }))).Item?.n?.N,
      added:
        (await dynamo.send(new GetItemCommand({ TableName: 'ranged', Key: { pk: S('P'), sk: S('NEW') } }))).Item !==
        undefined,
      other:
        (await dynamo.send(new GetItemCommand({ TableName: 'ranged', Key: { pk: S('P'), sk: S('OTHER') } }))).Item !==
        undefined,
      v: (await dynamo.send(new GetItemCommand({ TableName: 'flat', Key: { id: S('x') } }))).Item?.v?.S,
    });
    await expect(write('attribute_not_exists(pk)')).rejects.toThrow(TransactionCanceledException);
    expect(await read()).toEqual({ n: '1', added: false, other: true, v: 'before' });
    await write('attribute_exists(pk)');
    expect(await read()).toEqual({ n: '2', added: true, other: true, v: 'after' });
  });

  it('stops: the process group is gone and the port refuses connections', async () => {
    const extra = await startMoto();
    await extra.stop();
    expect(() => process.kill(extra.pid, 0)).toThrow();
    await expect(fetch(`${extra.endpoint}/moto-api/config`)).rejects.toThrow();
  });
});

describe('moto_server without the patches (why the launcher exists)', () => {
  let moto: MotoServer;
  let sfn: SFNClient;
  beforeAll(async () => {
    moto = await startMoto({ patches: false });
    sfn = new SFNClient(localClientConfig(moto.endpoint));
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('fails the second StartExecution and names every unnamed execution None', async () => {
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({ name: 'upstream', definition: PASS, roleArn: ROLE }),
    );
    const first = await sfn.send(new StartExecutionCommand({ stateMachineArn }));
    expect(first.executionArn).toMatch(/:None$/);
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'second' }))).rejects.toThrow();
  });
});
