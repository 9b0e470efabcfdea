import { existsSync, rmSync } from 'node:fs';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import {
  CreateTagsCommand,
  DescribeImagesCommand,
  EC2Client,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  type GetCommandInvocationCommandOutput,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixedClientConfig, localClientConfig } from '../../harness/clients.ts';
import { AGENT_PATH, privateTmpSupport } from '../../harness/command-runner.ts';
import { type LocalAws, startLocalAws } from '../../harness/local-aws.ts';

/** The shim's online delay in these tests: long enough to observe, short enough to wait out. */
const ONLINE_DELAY_SECONDS = 2;

const ACCOUNT = '123456789012';
/** Kiln's ssm-commands scope (infra/constructs/function-permissions.ts), written out: who may run what where. */
const RUN_COMMANDS = [
  { Effect: 'Allow', Action: 'ssm:SendCommand', Resource: 'arn:aws:ssm:us-east-1::document/AWS-RunShellScript' },
  {
    Effect: 'Allow',
    Action: 'ssm:SendCommand',
    Resource: `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/*`,
    Condition: { Null: { 'ssm:resourceTag/kiln:build-id': 'false' } },
  },
];
const READ_STATUS = {
  Effect: 'Allow',
  Action: ['ssm:GetCommandInvocation', 'ssm:ListCommandInvocations', 'ssm:DescribeInstanceInformation'],
  Resource: '*',
};

/** Two callers: Kiln's grants, and the same without reading command status. */
function callerRoles(trusted: string): Record<string, object> {
  const role = (name: string, statements: object[]) => ({
    [`${name}Role`]: {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: `ssm-${name}`,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: trusted }, Action: 'sts:AssumeRole' }],
        },
      },
    },
    [`${name}Policy`]: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        PolicyName: `ssm-${name}`,
        Roles: [{ Ref: `${name}Role` }],
        PolicyDocument: { Version: '2012-10-17', Statement: statements },
      },
    },
  });
  return { ...role('kiln', [...RUN_COMMANDS, READ_STATUS]), ...role('sendonly', RUN_COMMANDS) };
}

describe('SSM shim: Run Command on moto instances, executed in a sandbox', () => {
  let aws: LocalAws;
  let ssm: SSMClient;
  let ec2: EC2Client;
  let managed: string;
  let unmanaged: string;

  let imageId: string | undefined;

  async function launch(profile: boolean): Promise<string> {
    // moto's public AMIs survive a reset; listing them is slow, so once.
    imageId ??= (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.[0]?.ImageId;
    const out = await ec2.send(
      new RunInstancesCommand({
        ImageId: imageId,
        MinCount: 1,
        MaxCount: 1,
        InstanceType: 't3.micro',
        ...(profile ? { IamInstanceProfile: { Name: 'builder' } } : {}),
      }),
    );
    return out.Instances?.[0]?.InstanceId ?? '';
  }

  async function run(commands: string[], extra: Partial<{ timeout: string; bucket: string }> = {}) {
    await waitUntilOnline(managed);
    const sent = await ssm.send(
      new SendCommandCommand({
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: [managed],
        Parameters: { commands, ...(extra.timeout ? { executionTimeout: [extra.timeout] } : {}) },
        ...(extra.bucket ? { OutputS3BucketName: extra.bucket, OutputS3KeyPrefix: 'logs' } : {}),
      }),
    );
    const CommandId = sent.Command?.CommandId ?? '';
    let invocation: GetCommandInvocationCommandOutput;
    do {
      await new Promise((resolve) => setTimeout(resolve, 50));
      invocation = await ssm.send(new GetCommandInvocationCommand({ CommandId, InstanceId: managed }));
    } while (invocation.Status === 'Pending' || invocation.Status === 'InProgress');
    return invocation;
  }

  async function waitUntilOnline(id: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const out = await ssm.send(
        new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [id] }] }),
      );
      if ((out.InstanceInformationList ?? []).length > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${id} never came online`);
  }

  beforeAll(async () => {
    aws = await startLocalAws({ functions: [], onlineDelaySeconds: ONLINE_DELAY_SECONDS });
    ssm = new SSMClient(localClientConfig(aws.endpoint));
    ec2 = new EC2Client(localClientConfig(aws.endpoint));
  });
  afterAll(async () => {
    await aws?.stop();
  });
  beforeEach(async () => {
    await aws.reset();
    // The builder's instance profile, as Kiln's stack creates it.
    const TemplateBody = JSON.stringify({
      Resources: {
        Profile: { Type: 'AWS::IAM::InstanceProfile', Properties: { InstanceProfileName: 'builder', Roles: [] } },
        ...callerRoles(aws.moto.admin().arn),
      },
    });
    await new CloudFormationClient(localClientConfig(aws.endpoint)).send(
      new CreateStackCommand({ StackName: 'profile', TemplateBody }),
    );
    managed = await launch(true);
    unmanaged = await launch(false);
  });

  const waitOnline = () => new Promise((resolve) => setTimeout(resolve, ONLINE_DELAY_SECONDS * 1000 + 200));

  it('reports a new instance online only after the agent delay, and refuses commands until then', async () => {
    const early = await ssm.send(new DescribeInstanceInformationCommand({}));
    expect(early.InstanceInformationList).toEqual([]);
    await expect(
      ssm.send(
        new SendCommandCommand({
          DocumentName: 'AWS-RunShellScript',
          InstanceIds: [managed],
          Parameters: { commands: ['true'] },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidInstanceId' });
    await waitOnline();
    const later = await ssm.send(new DescribeInstanceInformationCommand({}));
    expect(later.InstanceInformationList?.map((i) => i.InstanceId)).toEqual([managed]);
  });

  it('reports running instances with an instance profile as online, and only those', async () => {
    await waitOnline();
    const all = await ssm.send(new DescribeInstanceInformationCommand({}));
    expect(all.InstanceInformationList?.map((i) => [i.InstanceId, i.PingStatus])).toEqual([[managed, 'Online']]);
    const filtered = await ssm.send(
      new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [unmanaged] }] }),
    );
    expect(filtered.InstanceInformationList).toEqual([]);
    await ec2.send(new StopInstancesCommand({ InstanceIds: [managed] }));
    const afterStop = await ssm.send(new DescribeInstanceInformationCommand({}));
    expect(afterStop.InstanceInformationList).toEqual([]);
  });

  it("runs the commands as one script with the agent's environment: its PATH, no HOME, cwd in the orchestration dir", async () => {
    const result = await run([
      'set -e',
      'echo "home=${HOME-unset} user=${USER-unset}"',
      'echo "path=$PATH"',
      'pwd',
      'echo hello > greeting.txt',
      'cat greeting.txt',
    ]);
    expect(result.Status).toBe('Success');
    expect(result.ResponseCode).toBe(0);
    const [home, path, cwd, greeting] = (result.StandardOutputContent ?? '').trim().split('\n');
    expect(home).toBe('home=unset user=unset');
    expect(path).toBe(`path=${AGENT_PATH}`);
    expect(cwd).toBe(
      `${aws.sandboxRoot}/${managed}/orchestration/${result.CommandId}/awsrunShellScript/0.awsrunShellScript`,
    );
    expect(greeting).toBe('hello');
  });

  it('fails a script that needs HOME under set -u, as the SSM agent does', async () => {
    const result = await run(['#!/bin/bash', 'set -u', 'mkdir -p "$HOME/site"']);
    expect(result.Status).toBe('Failed');
    expect(result.StandardErrorContent).toMatch(/HOME: unbound variable/);
  });

  it.each([
    ['a comment over 100 characters', { Comment: 'x'.repeat(101) }, 'ValidationException'],
    ['executionTimeout 0', { Parameters: { commands: ['true'], executionTimeout: ['0'] } }, 'InvalidParameters'],
    [
      'executionTimeout over 48 h',
      { Parameters: { commands: ['true'], executionTimeout: ['172801'] } },
      'InvalidParameters',
    ],
    [
      'a non-numeric executionTimeout',
      { Parameters: { commands: ['true'], executionTimeout: ['1h'] } },
      'InvalidParameters',
    ],
    ['a parameter the document lacks', { Parameters: { commands: ['true'], shell: ['zsh'] } }, 'InvalidParameters'],
    [
      'more than 50 instance ids',
      { InstanceIds: Array.from({ length: 51 }, (_, n) => `i-${String(n).padStart(17, '0')}`) },
      'ValidationException',
    ],
    ['a malformed instance id', { InstanceIds: ['i-123'] }, 'InvalidInstanceId'],
    [
      'an output prefix over 500 characters',
      { OutputS3BucketName: 'b', OutputS3KeyPrefix: 'p'.repeat(501) },
      'ValidationException',
    ],
  ])('refuses %s as the SSM API does', async (_what, override, error) => {
    await expect(
      ssm.send(
        new SendCommandCommand({
          DocumentName: 'AWS-RunShellScript',
          InstanceIds: [managed],
          Parameters: { commands: ['true'] },
          ...override,
        }),
      ),
    ).rejects.toMatchObject({ name: error });
  });

  it('accepts executionTimeout at both ends of its range', async () => {
    await waitOnline();
    for (const timeout of ['1', '172800']) {
      const result = await run(['true'], { timeout });
      expect(result.Status).toBe('Success');
    }
  });

  it('reports a failing script as Failed with its exit code and stderr', async () => {
    const result = await run(['echo before', 'echo broken >&2', 'exit 3', 'echo never']);
    expect(result).toMatchObject({
      Status: 'Failed',
      ResponseCode: 3,
      StandardOutputContent: 'before\n',
      StandardErrorContent: 'broken\n',
    });
  });

  it('kills a script that outlives executionTimeout and reports TimedOut', async () => {
    const result = await run(['echo started', 'sleep 30'], { timeout: '1' });
    expect(result.Status).toBe('TimedOut');
    expect(result.StatusDetails).toBe('ExecutionTimedOut');
    expect(result.StandardOutputContent).toBe('started\n');
  });

  it('truncates inline output like SSM and writes it in full to the output bucket', async () => {
    const s3 = new S3Client(localClientConfig(aws.endpoint));
    await s3.send(new CreateBucketCommand({ Bucket: 'ssm-output' }));
    const result = await run(['head -c 30000 /dev/zero | tr "\\0" o', 'head -c 9000 /dev/zero | tr "\\0" e >&2'], {
      bucket: 'ssm-output',
    });
    expect(result.StandardOutputContent).toHaveLength(24_000);
    expect(result.StandardErrorContent).toHaveLength(8_000);
    const key = `logs/${result.CommandId}/${managed}/awsrunShellScript/0.awsrunShellScript/stdout`;
    expect(result.StandardOutputUrl).toContain(key);
    const object = await s3.send(new GetObjectCommand({ Bucket: 'ssm-output', Key: key }));
    expect(await object.Body?.transformToString()).toHaveLength(30_000);
  });

  it('refuses instances SSM could not manage, like SSM', async () => {
    await expect(
      ssm.send(
        new SendCommandCommand({
          DocumentName: 'AWS-RunShellScript',
          InstanceIds: [unmanaged],
          Parameters: { commands: ['true'] },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidInstanceId' });
    await waitUntilOnline(managed);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [managed] }));
    await expect(
      ssm.send(
        new SendCommandCommand({
          DocumentName: 'AWS-RunShellScript',
          InstanceIds: [managed],
          Parameters: { commands: ['true'] },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidInstanceId' });
  });

  it('lists commands and invocations with their real status', async () => {
    const ok = await run(['true']);
    const bad = await run(['exit 7']);
    const commands = await ssm.send(new ListCommandsCommand({}));
    expect(commands.Commands?.map((c) => [c.CommandId, c.Status])).toEqual([
      [bad.CommandId, 'Failed'],
      [ok.CommandId, 'Success'],
    ]);
    const invocations = await ssm.send(new ListCommandInvocationsCommand({ CommandId: bad.CommandId, Details: true }));
    expect(invocations.CommandInvocations?.[0]?.CommandPlugins?.[0]).toMatchObject({
      ResponseCode: 7,
      Status: 'Failed',
    });
  });

  it('gives each instance its own /tmp where mount namespaces are available (else shares the host /tmp)', async () => {
    const marker = `kiln-shim-${process.pid}-${Date.now()}`;
    const result = await run([`echo private > /tmp/${marker}`, `cat /tmp/${marker}`]);
    expect(result.StandardOutputContent).toBe('private\n');
    const privateTmp = privateTmpSupport() !== 'none';
    expect(existsSync(`/tmp/${marker}`)).toBe(!privateTmp);
    expect(existsSync(`${aws.sandboxRoot}/${managed}/fs/tmp/${marker}`)).toBe(privateTmp);
    rmSync(`/tmp/${marker}`, { force: true });
  });

  describe("IAM: the shim authorizes each call as SSM does, against the caller's policies", () => {
    const asRole = async (name: string) =>
      new SSMClient(
        fixedClientConfig(
          aws.endpoint,
          'us-east-1',
          await aws.roles.forRole(`arn:aws:iam::${ACCOUNT}:role/ssm-${name}`),
        ),
      );
    const send = (client: SSMClient, instanceId: string, DocumentName = 'AWS-RunShellScript') =>
      client.send(
        new SendCommandCommand({ DocumentName, InstanceIds: [instanceId], Parameters: { commands: ['true'] } }),
      );
    const tagManaged = () =>
      ec2.send(new CreateTagsCommand({ Resources: [managed], Tags: [{ Key: 'kiln:build-id', Value: 'b-1' }] }));

    it('runs a command on an instance carrying the build tag, and refuses it on one without', async () => {
      await waitUntilOnline(managed);
      const kiln = await asRole('kiln');
      const untagged = await send(kiln, managed).catch((e: unknown) => e);
      expect(untagged).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
      expect((untagged as Error).message).toBe(
        `User: arn:aws:sts::${ACCOUNT}:assumed-role/ssm-kiln/kiln-local is not authorized to perform: ssm:SendCommand ` +
          `on resource: arn:aws:ec2:us-east-1:${ACCOUNT}:instance/${managed} because no identity-based policy allows ` +
          'the ssm:SendCommand action',
      );
      expect(aws.router.shim.allCommands()).toEqual([]);
      await tagManaged();
      const sent = await send(kiln, managed);
      const status = await kiln.send(
        new GetCommandInvocationCommand({ CommandId: sent.Command?.CommandId, InstanceId: managed }),
      );
      expect(status.InstanceId).toBe(managed);
    });

    it.each([
      ['a document outside the grant', 'kiln', 'AWS-RunPowerShellScript', 'document/AWS-RunPowerShellScript'],
      ['status reads without ssm:GetCommandInvocation', 'sendonly', 'status', 'resource: *'],
      ['a listing without ssm:DescribeInstanceInformation', 'sendonly', 'describe', 'resource: *'],
    ])('refuses %s with AccessDeniedException', async (_label, roleName, what, resource) => {
      await waitUntilOnline(managed);
      await tagManaged();
      const client = await asRole(roleName);
      const call =
        what === 'status'
          ? send(client, managed).then((sent) =>
              client.send(new GetCommandInvocationCommand({ CommandId: sent.Command?.CommandId, InstanceId: managed })),
            )
          : what === 'describe'
            ? client.send(new DescribeInstanceInformationCommand({}))
            : send(client, managed, what);
      const error = await call.then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.name).toBe('AccessDeniedException');
      expect(error?.message).toContain(resource);
    });

    it.each([
      ['unsigned', {}, 'MissingAuthenticationTokenException'],
      [
        'signed with a key nobody was issued',
        {
          Authorization:
            'AWS4-HMAC-SHA256 Credential=AKIAFORGED000000000/20260101/us-east-1/ssm/aws4_request, SignedHeaders=host, Signature=00',
        },
        'UnrecognizedClientException',
      ],
    ])('refuses a SendCommand %s', async (_label, headers, type) => {
      await tagManaged();
      const response = await fetch(`${aws.endpoint}/`, {
        method: 'POST',
        headers: { ...headers, 'X-Amz-Target': 'AmazonSSM.SendCommand', 'Content-Type': 'application/x-amz-json-1.1' },
        body: JSON.stringify({
          DocumentName: 'AWS-RunShellScript',
          InstanceIds: [managed],
          Parameters: { commands: ['true'] },
        }),
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { __type: string }).__type).toBe(type);
      expect(aws.router.shim.allCommands()).toEqual([]);
    });
  });
});
