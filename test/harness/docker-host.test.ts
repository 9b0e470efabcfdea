/**
 * Which local instances are docker builder hosts: with `startLocalAws({ containers: true })`, commands sent to an
 * instance launched from the ECS-optimized AL2023 AMI (the public SSM parameter LaunchBuilder resolves, which moto's
 * EC2 knows) find `docker` (the podman wrapper) on the agent's PATH; an instance of any other AMI has no working one, as a
 * plain AMI has no Docker. A container started by one command is exec'd and removed by later ones, each in its own
 * private mount namespace, as the docker host steps (prepare, provisioners, finish, cleanup) are.
 */
import { randomBytes } from 'node:crypto';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { DescribeImagesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import {
  GetCommandInvocationCommand,
  type GetCommandInvocationCommandOutput,
  GetParameterCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ECS_AL2023_AMI_PARAMETER } from '../../aws/docker-host.ts';
import { localClientConfig } from '../../harness/clients.ts';
import { type LocalAws, startLocalAws } from '../../harness/local-aws.ts';

const LABEL = `kiln.build-id=kb-dh-${randomBytes(4).toString('hex')}`;

let aws: LocalAws;
let ssm: SSMClient;
let ec2: EC2Client;
let dockerHostAmi: string;
const timings: Record<string, number> = {};

async function launch(imageId: string): Promise<string> {
  const out = await ec2.send(
    new RunInstancesCommand({
      ImageId: imageId,
      MinCount: 1,
      MaxCount: 1,
      InstanceType: 't3.medium',
      IamInstanceProfile: { Name: 'builder' },
    }),
  );
  return out.Instances?.[0]?.InstanceId ?? '';
}

async function run(instanceId: string, commands: string[]): Promise<GetCommandInvocationCommandOutput> {
  const started = Date.now();
  const sent = await ssm.send(
    new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: [instanceId], Parameters: { commands } }),
  );
  const CommandId = sent.Command?.CommandId ?? '';
  let invocation: GetCommandInvocationCommandOutput;
  do {
    await new Promise((resolve) => setTimeout(resolve, 100));
    invocation = await ssm.send(new GetCommandInvocationCommand({ CommandId, InstanceId: instanceId }));
  } while (invocation.Status === 'Pending' || invocation.Status === 'InProgress');
  timings[commands[0]?.split(' ').slice(0, 2).join(' ') ?? '?'] = Date.now() - started;
  return invocation;
}

beforeAll(async () => {
  const started = Date.now();
  aws = await startLocalAws({ functions: [], onlineDelaySeconds: 0, containers: true });
  timings.startLocalAws = Date.now() - started;
  ssm = new SSMClient(localClientConfig(aws.endpoint));
  ec2 = new EC2Client(localClientConfig(aws.endpoint));
  // The builder's instance profile (the shim treats instances with one as managed), as Kiln's stack creates it.
  await new CloudFormationClient(localClientConfig(aws.endpoint)).send(
    new CreateStackCommand({
      StackName: 'builder-profile',
      TemplateBody: JSON.stringify({
        Resources: {
          Profile: { Type: 'AWS::IAM::InstanceProfile', Properties: { InstanceProfileName: 'builder', Roles: [] } },
        },
      }),
    }),
  );
  const parameter = await ssm.send(new GetParameterCommand({ Name: ECS_AL2023_AMI_PARAMETER }));
  dockerHostAmi = parameter.Parameter?.Value ?? '';
}, 120_000);

afterAll(async () => {
  await aws?.stop();
  console.log(`docker-host.test.ts timings (ms): ${JSON.stringify(timings)}`);
});

describe('docker builder hosts in the SSM stand-in', () => {
  it("moto's EC2 knows the ECS-optimized AL2023 AMI of the public parameter", async () => {
    expect(dockerHostAmi).toMatch(/^ami-[0-9a-f]{8,17}$/);
    const images = await ec2.send(new DescribeImagesCommand({ ImageIds: [dockerHostAmi] }));
    expect(images.Images?.[0]?.Name).toMatch(/^al2023-ami-ecs-hvm-/);
  });

  it('gives docker to instances of the docker host AMI only', async () => {
    const other = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.find(
      (i) => i.ImageId !== dockerHostAmi && !/ecs/i.test(i.Name ?? ''),
    )?.ImageId;
    if (!other) throw new Error('moto has no other public AMI');
    const [dockerHost, plain] = await Promise.all([launch(dockerHostAmi), launch(other)]);
    // This machine has a docker CLI without an engine (/usr/local/bin/docker): on a plain instance it cannot work.
    const check = [
      'command -v docker || echo "no docker"',
      'if docker ps >/dev/null 2>&1; then echo engine; else echo "no engine"; fi',
    ];
    const [onDockerHost, onPlain] = await Promise.all([run(dockerHost, check), run(plain, check)]);
    expect(onDockerHost.Status).toBe('Success');
    expect(onDockerHost.StandardOutputContent?.trim().split('\n')).toEqual([
      `${aws.containers?.binDir}/docker`,
      'engine',
    ]);
    expect(onPlain.StandardOutputContent).not.toContain(aws.containers?.binDir ?? '?');
    expect(onPlain.StandardOutputContent?.trim().split('\n')[1]).toBe('no engine');
  });

  it('runs a container in one command and execs, then removes it, in later ones', async () => {
    const host = await launch(dockerHostAmi);
    const started = await run(host, [
      `docker run -d -i -t --label ${LABEL} --entrypoint=/bin/sh -- python:3.9-slim </dev/null > /var/tmp/${LABEL}.cid`,
    ]);
    expect(started.StandardErrorContent).not.toMatch(/Error/);
    expect(started.Status).toBe('Success');
    const exec = await run(host, [
      `cid=$(cat /var/tmp/${LABEL}.cid)`,
      `docker exec -i "$cid" /bin/sh -c '(python -c "print(6*7)")' </dev/null`,
    ]);
    expect(exec.Status).toBe('Success');
    expect(exec.StandardOutputContent?.trim()).toBe('42');
    const removed = await run(host, [
      `for id in $(docker ps -aq --filter label=${LABEL}); do docker rm -f -- "$id" >/dev/null; done`,
      `rm -f /var/tmp/${LABEL}.cid`,
      `docker ps -aq --filter label=${LABEL} | wc -l`,
    ]);
    expect(removed.Status).toBe('Success');
    expect(removed.StandardOutputContent?.trim()).toBe('0');
  }, 120_000);
});
