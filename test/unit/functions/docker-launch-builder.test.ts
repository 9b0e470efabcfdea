/**
 * LaunchBuilder on a docker build (the reference template planned by the real engine): the host AMI comes from the
 * stack's SSM parameter, the host is launched with Kiln's defaults (IMDSv2 with hop limit 1, encrypted gp3 root,
 * the stack's group and profile, Kiln tags, an idempotent token), and the cursor walks prepare, the provisioners
 * and finish.
 */
import { DescribeImagesCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { GetParameterCommand, ParameterNotFound } from '@aws-sdk/client-ssm';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { ECS_AL2023_AMI_PARAMETER } from '../../../aws/docker-host.ts';
import { type LaunchDeps, launchBuilder } from '../../../functions/ec2-host/launch-builder/launch-builder.ts';
import { clientToken } from '../../../functions/lib/tokens.ts';
import { dockerBaseState, dockerPlanText, referenceTemplate } from './docker-fakes.ts';
import { mocks } from './fakes.ts';

const HOST_AMI = 'ami-0fedcba9876543210';
const PARAMETER = '/kiln/test/docker-host-ami';
const launch = {
  instanceProfile: 'kiln-builder',
  securityGroupId: 'sg-noingress',
  subnetIds: ['subnet-a', 'subnet-b'],
};

async function setup(planText?: string, parameter = PARAMETER) {
  const m = mocks(planText ?? (await dockerPlanText()));
  m.ssm.on(GetParameterCommand, { Name: parameter }).resolves({ Parameter: { Name: parameter, Value: HOST_AMI } });
  m.ec2.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-0dkr' }] });
  const ssmRegions: string[] = [];
  const deps: LaunchDeps = {
    ...m.deps,
    launch,
    dockerHost: { amiParameter: parameter, instanceType: 'm6i.large', volumeGiB: 40 },
    ssmFor: (region) => {
      ssmRegions.push(region);
      return m.ssmClient;
    },
  };
  return { ...m, ssmRegions, run: () => launchBuilder(deps, { state: dockerBaseState() }) };
}

const failure = (p: Promise<unknown>) => p.then(() => undefined).catch((e: unknown) => e as Error);

describe('LaunchBuilder on a docker build', () => {
  it('reads the host AMI from the configured parameter and launches it with the stack’s settings', async () => {
    const t = await setup();
    await t.run();
    expect(t.ssm).toHaveReceivedCommandTimes(GetParameterCommand, 1);
    expect(t.ssm).toHaveReceivedCommandWith(GetParameterCommand, { Name: PARAMETER });
    // The build runs in the home region: its host parameter is read there.
    expect(t.ssmRegions).toEqual(['us-east-1']);
    // A docker build has no source AMI to resolve and no AMI name to check.
    expect(t.ec2).not.toHaveReceivedCommand(DescribeImagesCommand);
    expect(t.ec2).toHaveReceivedCommandTimes(RunInstancesCommand, 1);
    const input = t.ec2.commandCalls(RunInstancesCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      ImageId: HOST_AMI,
      InstanceType: 'm6i.large',
      MinCount: 1,
      MaxCount: 1,
      ClientToken: clientToken('launch', 'exec-1', 'kb-test', 0),
      IamInstanceProfile: { Name: 'kiln-builder' },
      SecurityGroupIds: ['sg-noingress'],
      SubnetId: 'subnet-a',
      InstanceInitiatedShutdownBehavior: 'terminate',
    });
    // IMDSv2 only, and hop limit 1: a container on the host cannot reach the host role's credentials.
    expect(input?.MetadataOptions).toEqual({
      HttpTokens: 'required',
      HttpEndpoint: 'enabled',
      HttpPutResponseHopLimit: 1,
    });
    expect(input?.BlockDeviceMappings).toEqual([
      {
        DeviceName: '/dev/xvda',
        Ebs: { VolumeSize: 40, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true },
      },
    ]);
    expect(input?.UserData).toBeUndefined();
  });

  it('tags the instance and its volume with Kiln’s tags and a Name', async () => {
    const t = await setup();
    await t.run();
    const specs = t.ec2.commandCalls(RunInstancesCommand)[0]?.args[0].input.TagSpecifications ?? [];
    expect(specs.map((s) => s.ResourceType)).toEqual(['instance', 'volume']);
    const expected = [
      { Key: 'Name', Value: 'Kiln docker host docker' },
      { Key: 'kiln:build-id', Value: 'kb-test' },
      { Key: 'kiln:execution', Value: 'exec-1' },
      { Key: 'kiln:template', Value: 's3://kiln-templates/templates/docker-python-app.zip' },
      { Key: 'kiln:build-index', Value: '0' },
      { Key: 'kiln:build-name', Value: 'docker' },
    ];
    for (const spec of specs) expect(spec.Tags).toEqual(expect.arrayContaining(expected));
  });

  it('records region, instance and the created instance, the cursor over prepare, 1 provisioner and finish', async () => {
    const t = await setup();
    const out = await t.run();
    expect(out.state).toMatchObject({
      driver: 'ec2-docker',
      region: 'us-east-1',
      instanceId: 'i-0dkr',
      launchedAt: '2026-01-01T00:00:00.000Z',
      startedAt: '2026-01-01T00:00:00.000Z',
      provision: { index: 0, count: 3, attempt: 0 },
      created: [{ kind: 'instance', region: 'us-east-1', id: 'i-0dkr' }],
    });
    expect(out.wait).toEqual({ done: false, waitSeconds: 15 });
  });

  it('counts n + 2 host steps for n provisioners', async () => {
    const template = referenceTemplate();
    template.provisioners.push({ type: 'shell', inline: ['echo two'] }, { type: 'shell', inline: ['echo three'] });
    const t = await setup(await dockerPlanText(template));
    expect((await t.run()).state.provision).toEqual({ index: 0, count: 5, attempt: 0 });
  });

  it('uses the ECS-optimized AL2023 parameter when the stack names that one', async () => {
    const t = await setup(undefined, ECS_AL2023_AMI_PARAMETER);
    await t.run();
    expect(t.ssm).toHaveReceivedCommandWith(GetParameterCommand, { Name: ECS_AL2023_AMI_PARAMETER });
    expect(t.ec2).toHaveReceivedCommandWith(RunInstancesCommand, { ImageId: HOST_AMI });
  });

  it('fails with Kiln.LaunchFailed naming the parameter when it does not hold an AMI id', async () => {
    for (const value of ['resolve:ssm:/x', 'ami-XYZ', '', 'ami-123']) {
      const t = await setup();
      t.ssm.on(GetParameterCommand).resolves({ Parameter: { Name: PARAMETER, Value: value } });
      const err = await failure(t.run());
      expect(err?.name, value).toBe('Kiln.LaunchFailed');
      expect(err?.message).toContain(`The SSM parameter ${PARAMETER} holds "${value}", not an AMI id`);
      expect(t.ec2).not.toHaveReceivedCommand(RunInstancesCommand);
    }
  });

  it('fails with Kiln.LaunchFailed naming the parameter and what to set when it does not exist', async () => {
    const t = await setup();
    t.ssm
      .on(GetParameterCommand)
      .rejects(new ParameterNotFound({ message: 'Parameter not found', $metadata: { httpStatusCode: 400 } }));
    const err = await failure(t.run());
    expect(err?.name).toBe('Kiln.LaunchFailed');
    expect(err?.message).toContain(
      `reading the docker host AMI from the SSM parameter ${PARAMETER}: ParameterNotFound`,
    );
    expect(err?.message).toContain("set the stack's dockerHostAmiParameter to one that exists");
    expect(t.ec2).not.toHaveReceivedCommand(RunInstancesCommand);
  });

  it('retries a throttled parameter read (Kiln.Transient), never launches without an AMI', async () => {
    const t = await setup();
    t.ssm
      .on(GetParameterCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }));
    const err = await failure(t.run());
    expect(err?.name).toBe('Kiln.Transient');
    expect(t.ec2).not.toHaveReceivedCommand(RunInstancesCommand);
  });
});
