/**
 * The real-AWS defects against the emulator's EC2 (moto): the network inspection CheckManaged runs when a builder
 * does not come Online, force_deregister's tag check, and the KMS key of a launch request reaching the volume.
 * Each case builds the network or image it needs; moto's default VPC has an internet gateway route.
 */
import {
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  CreateImageCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeRouteTablesCommand,
  DescribeVolumesCommand,
  EC2Client,
  type Instance,
  ModifySubnetAttributeCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { diagnoseNetwork, gatherNetworkFacts } from '../../functions/ec2-host/check-managed/reachability.ts';
import { preValidateAmiName } from '../../functions/ec2-host/launch-builder/ami-name-check.ts';
import { buildRunInstancesRequest } from '../../functions/ec2-host/launch-builder/run-request.ts';
import { localClientConfig } from '../../harness/clients.ts';
import { type MotoServer, startMoto } from '../../harness/moto.ts';

const REGION = 'us-east-1';
let moto: MotoServer;
let ec2: EC2Client;

beforeAll(async () => {
  moto = await startMoto();
  ec2 = new EC2Client(localClientConfig(moto.endpoint, REGION));
}, 60_000);
afterAll(async () => {
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
});

async function anyImageId(): Promise<string> {
  const images = await ec2.send(new DescribeImagesCommand({}));
  const id = images.Images?.find((i) => i.RootDeviceType === 'ebs')?.ImageId;
  if (!id) throw new Error('moto has no EBS image');
  return id;
}

async function launch(subnetId?: string): Promise<Instance> {
  const out = await ec2.send(
    new RunInstancesCommand({
      ImageId: await anyImageId(),
      InstanceType: 't3.micro',
      MinCount: 1,
      MaxCount: 1,
      ...(subnetId ? { SubnetId: subnetId } : {}),
    }),
  );
  const id = out.Instances?.[0]?.InstanceId as string;
  const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  return described.Reservations?.[0]?.Instances?.[0] as Instance;
}

async function isolatedSubnet(): Promise<{ vpcId: string; subnetId: string }> {
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }));
  const vpcId = vpc.Vpc?.VpcId as string;
  const subnet = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.20.1.0/24' }));
  return { vpcId, subnetId: subnet.Subnet?.SubnetId as string };
}

async function diagnose(instance: Instance): Promise<string[]> {
  const facts = await gatherNetworkFacts(ec2, REGION, instance);
  if (!facts) throw new Error('no network facts');
  return diagnoseNetwork(facts);
}

describe('builder network inspection on moto', () => {
  it("finds nothing wrong in a default VPC with its internet gateway (AWS's has one; moto 5.2.1's has none)", async () => {
    const instance = await launch();
    const vpcId = instance.VpcId as string;
    const before = (await diagnose(instance)).join('\n');
    expect(before).toContain('has no 0.0.0.0/0 route to an internet or NAT gateway');
    const igw = await ec2.send(new CreateInternetGatewayCommand({}));
    const igwId = igw.InternetGateway?.InternetGatewayId as string;
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igwId, VpcId: vpcId }));
    // The default subnets have no table of their own: the VPC's main table applies.
    const main = await ec2.send(
      new DescribeRouteTablesCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpcId] },
          { Name: 'association.main', Values: ['true'] },
        ],
      }),
    );
    const mainId = main.RouteTables?.[0]?.RouteTableId as string;
    await ec2.send(
      new CreateRouteCommand({ RouteTableId: mainId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igwId }),
    );
    expect(instance.PublicIpAddress).toBeTruthy();
    expect(await diagnose(instance)).toEqual([]);
  });

  it('names the missing route and endpoints of a subnet in a VPC without gateway', async () => {
    const { subnetId, vpcId } = await isolatedSubnet();
    const problems = (await diagnose(await launch(subnetId))).join('\n');
    expect(problems).toMatch(
      new RegExp(`subnet ${subnetId} \\(route table rtb-[0-9a-f]+\\) has no 0\\.0\\.0\\.0/0 route`),
    );
    expect(problems).toContain(`VPC ${vpcId} has no ssm, ssmmessages, ec2messages interface endpoints`);
  });

  it('accepts an isolated subnet once the three SSM endpoints exist', async () => {
    const { subnetId, vpcId } = await isolatedSubnet();
    for (const name of ['ssm', 'ssmmessages', 'ec2messages']) {
      await ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: vpcId,
          ServiceName: `com.amazonaws.${REGION}.${name}`,
          VpcEndpointType: 'Interface',
          SubnetIds: [subnetId],
          PrivateDnsEnabled: true,
        }),
      );
    }
    expect(await diagnose(await launch(subnetId))).toEqual([]);
  });

  it('says a subnet routed to an internet gateway needs public IPs, and accepts it once they are on', async () => {
    const { subnetId, vpcId } = await isolatedSubnet();
    const igw = await ec2.send(new CreateInternetGatewayCommand({}));
    const igwId = igw.InternetGateway?.InternetGatewayId as string;
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igwId, VpcId: vpcId }));
    const table = await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }));
    const tableId = table.RouteTable?.RouteTableId as string;
    await ec2.send(
      new CreateRouteCommand({ RouteTableId: tableId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igwId }),
    );
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: tableId, SubnetId: subnetId }));
    const withoutIp = (await diagnose(await launch(subnetId))).join('\n');
    expect(withoutIp).toContain(`routes 0.0.0.0/0 to ${igwId} but the builder has no public IPv4 address`);
    await ec2.send(new ModifySubnetAttributeCommand({ SubnetId: subnetId, MapPublicIpOnLaunch: { Value: true } }));
    expect(await diagnose(await launch(subnetId))).toEqual([]);
  });
});

describe('force_deregister on moto', () => {
  async function imageNamed(name: string, kiln: boolean): Promise<string> {
    const instance = await launch();
    const out = await ec2.send(new CreateImageCommand({ InstanceId: instance.InstanceId as string, Name: name }));
    const imageId = out.ImageId as string;
    if (kiln)
      await ec2.send(
        new CreateTagsCommand({ Resources: [imageId], Tags: [{ Key: 'kiln:build-id', Value: 'kb-old' }] }),
      );
    return imageId;
  }

  const namedBuild = (name: string) => ({ config: { force_deregister: true }, ami: { name, copyRegions: [] } });

  it('refuses to deregister an AMI Kiln did not create, and leaves it in place', async () => {
    const imageId = await imageNamed('web-base', false);
    await expect(preValidateAmiName(ec2, namedBuild('web-base'))).rejects.toMatchObject({
      name: 'Kiln.AmiNameInUse',
      message: expect.stringContaining('was not created by Kiln'),
    });
    const still = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
    expect(still.Images?.[0]?.State).toBe('available');
  });

  it('deregisters an AMI Kiln created', async () => {
    const imageId = await imageNamed('web-base', true);
    expect(await preValidateAmiName(ec2, namedBuild('web-base'))).toEqual({
      deregistered: [imageId],
    });
    const left = await ec2.send(
      new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: ['web-base'] }] }),
    );
    expect(left.Images ?? []).toEqual([]);
  });
});

describe('customer-managed KMS key at launch on moto', () => {
  it("encrypts the builder's root volume with kms_key_id", async () => {
    // No KMS client ships with Kiln (its functions never call KMS); moto's EC2 records the key id as given.
    const keyArn = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const images = await ec2.send(new DescribeImagesCommand({}));
    const source = images.Images?.find((i) => i.RootDeviceType === 'ebs' && i.RootDeviceName);
    if (!source) throw new Error('moto has no EBS image with a root device');
    const request = buildRunInstancesRequest({
      config: { instance_type: 't3.micro', kms_key_id: keyArn, encrypt_boot: true },
      source,
      settings: { instanceProfile: 'kiln-builder', securityGroupId: 'sg-unused', subnetIds: [] },
      tags: { buildId: 'kb-kms', executionName: 'exec', template: 's3://t/k', index: 0, name: 'kms' },
      clientToken: 'token-kms',
    });
    // moto knows neither the profile nor the group: the request's encryption is what is under test.
    const { IamInstanceProfile: _profile, SecurityGroupIds: _groups, ...launchable } = request;
    const out = await ec2.send(new RunInstancesCommand(launchable));
    const instanceId = out.Instances?.[0]?.InstanceId as string;
    const volumes = await ec2.send(
      new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }] }),
    );
    const root = volumes.Volumes?.find((v) => v.Attachments?.[0]?.Device === source.RootDeviceName);
    expect(root).toMatchObject({ Encrypted: true, KmsKeyId: keyArn });
  });
});
