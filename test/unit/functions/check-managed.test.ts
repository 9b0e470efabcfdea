import {
  DescribeInstancesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcEndpointsCommand,
  type Instance,
  type IpPermission,
  type Route,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import { DescribeInstanceInformationCommand } from '@aws-sdk/client-ssm';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { checkManaged } from '../../../functions/ec2-host/check-managed/check-managed.ts';
import { launchedState, mocks, planWith } from './fakes.ts';

function setup(planText?: string) {
  const m = mocks(planText);
  m.ec2
    .on(DescribeInstancesCommand)
    .resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-0abc', State: { Name: 'running' } }] }] });
  return { ...m, check: () => checkManaged({ ...m.deps, ssmFor: () => m.ssmClient }, { state: launchedState() }) };
}

describe('checkManaged', () => {
  it('is done once Systems Manager reports the instance Online', async () => {
    const t = setup();
    t.ssm
      .on(DescribeInstanceInformationCommand)
      .resolves({ InstanceInformationList: [{ InstanceId: 'i-0abc', PingStatus: 'Online' }] });
    expect((await t.check()).wait).toEqual({ done: true, waitSeconds: 0 });
    expect(t.ssm).toHaveReceivedCommandWith(DescribeInstanceInformationCommand, {
      Filters: [{ Key: 'InstanceIds', Values: ['i-0abc'] }],
    });
  });

  it('waits with the adaptive back-off, never past the deadline', async () => {
    const t = setup();
    t.ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    t.setNow('2026-01-01T00:00:10.000Z');
    expect((await t.check()).wait).toEqual({ done: false, waitSeconds: 15 });
    t.setNow('2026-01-01T00:06:00.000Z');
    expect((await t.check()).wait).toEqual({ done: false, waitSeconds: 240 });
    t.setNow('2026-01-01T00:09:00.000Z');
    expect((await t.check()).wait).toEqual({ done: false, waitSeconds: 60 });
  });

  it('times out after 10 minutes naming the usual causes', async () => {
    const t = setup();
    t.ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    t.setNow('2026-01-01T00:10:00.000Z');
    const err = (await t.check().catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('Kiln.Timeout');
    expect(err.message).toMatch(/VPC endpoints/);
    expect(err.message).toMatch(/AmazonSSMManagedInstanceCore/);
    expect(err.message).toMatch(/SSM agent/);
  });

  it('uses aws_polling delay_seconds × max_attempts as the deadline', async () => {
    const t = setup(
      planWith((p) =>
        Object.assign(p.plan.builds[0]?.config ?? {}, { aws_polling: { delay_seconds: 5, max_attempts: 12 } }),
      ),
    );
    t.ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    t.setNow('2026-01-01T00:01:00.000Z');
    await expect(t.check()).rejects.toMatchObject({
      name: 'Kiln.Timeout',
      message: expect.stringContaining('within 1 minutes'),
    });
  });

  it('fails fast with Kiln.LaunchFailed when the builder terminated', async () => {
    const t = setup();
    t.ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            {
              InstanceId: 'i-0abc',
              State: { Name: 'terminated' },
              StateReason: { Message: 'Server.SpotInstanceTermination' },
            },
          ],
        },
      ],
    });
    await expect(t.check()).rejects.toMatchObject({
      name: 'Kiln.LaunchFailed',
      message: expect.stringContaining('SpotInstanceTermination'),
    });
  });
});

const IGW: Route = { DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-1', State: 'active' };
const NAT: Route = { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' };
const TGW: Route = { DestinationCidrBlock: '0.0.0.0/0', TransitGatewayId: 'tgw-1', State: 'active' };
const LOCAL: Route = { DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' };
const BLACKHOLE_NAT: Route = { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-gone', State: 'blackhole' };
const HTTPS_OUT: IpPermission = { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] };
const HTTP_ONLY_OUT: IpPermission = {
  IpProtocol: 'tcp',
  FromPort: 80,
  ToPort: 80,
  IpRanges: [{ CidrIp: '0.0.0.0/0' }],
};
const endpoint = (name: string, extra: Partial<VpcEndpoint> = {}): VpcEndpoint => ({
  ServiceName: `com.amazonaws.us-east-1.${name}`,
  VpcEndpointType: name === 's3' ? 'Gateway' : 'Interface',
  State: 'Available',
  PrivateDnsEnabled: name !== 's3',
  ...extra,
});
const ALL_SSM = ['ssm', 'ssmmessages', 'ec2messages', 's3'].map((n) => endpoint(n));

interface Shape {
  readonly routes?: Route[];
  /** Routes of the VPC's main table, used when the subnet has no table of its own. */
  readonly mainRoutes?: Route[];
  readonly publicIp?: boolean;
  readonly endpoints?: VpcEndpoint[];
  readonly egress?: IpPermission[];
}

function networkSetup(shape: Shape) {
  const t = setup();
  const instance: Instance = {
    InstanceId: 'i-0abc',
    State: { Name: 'running' },
    SubnetId: 'subnet-1',
    VpcId: 'vpc-1',
    SecurityGroups: [{ GroupId: 'sg-builder' }],
    ...(shape.publicIp ? { PublicIpAddress: '203.0.113.7' } : {}),
  };
  t.ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance] }] });
  t.ec2
    .on(DescribeRouteTablesCommand, { Filters: [{ Name: 'association.subnet-id', Values: ['subnet-1'] }] })
    .resolves({ RouteTables: shape.routes ? [{ RouteTableId: 'rtb-subnet', Routes: shape.routes }] : [] });
  t.ec2
    .on(DescribeRouteTablesCommand, {
      Filters: [
        { Name: 'vpc-id', Values: ['vpc-1'] },
        { Name: 'association.main', Values: ['true'] },
      ],
    })
    .resolves({ RouteTables: [{ RouteTableId: 'rtb-main', Routes: shape.mainRoutes ?? [LOCAL] }] });
  t.ec2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: shape.endpoints ?? [] });
  t.ec2
    .on(DescribeSecurityGroupsCommand)
    .resolves({ SecurityGroups: [{ GroupId: 'sg-builder', IpPermissionsEgress: shape.egress ?? [HTTPS_OUT] }] });
  t.ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
  t.setNow('2026-01-01T00:01:30.000Z');
  return t;
}

describe('checkManaged: builder network reachability', () => {
  const reachable: [string, Shape][] = [
    ['public subnet: internet gateway and a public IP', { routes: [LOCAL, IGW], publicIp: true }],
    ['private subnet with a NAT gateway route', { routes: [LOCAL, NAT] }],
    ['transit gateway default route (egress VPC)', { routes: [LOCAL, TGW] }],
    ['isolated subnet with the three SSM endpoints', { routes: [LOCAL], endpoints: ALL_SSM }],
    ['no table of its own: the main table routes to a NAT', { mainRoutes: [LOCAL, NAT] }],
    [
      'security group allowing all traffic out',
      { routes: [LOCAL, NAT], egress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] },
    ],
    [
      "egress 443 only to the endpoints' security group",
      {
        routes: [LOCAL],
        endpoints: ALL_SSM,
        egress: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, UserIdGroupPairs: [{ GroupId: 'sg-endpoints' }] }],
      },
    ],
  ];
  it.each(reachable)('keeps waiting when the network offers a way: %s', async (_name, shape) => {
    const t = networkSetup(shape);
    const out = await t.check();
    expect(out.wait?.done).toBe(false);
    expect(t.ec2).toHaveReceivedCommand(DescribeVpcEndpointsCommand);
  });

  const unreachable: [string, Shape, RegExp[]][] = [
    [
      'isolated subnet, no endpoints',
      { routes: [LOCAL] },
      [
        /subnet-1 \(route table rtb-subnet\) has no 0\.0\.0\.0\/0 route/,
        /no ssm, ssmmessages, ec2messages interface endpoints/,
        /no S3 endpoint/,
      ],
    ],
    [
      'internet gateway route but no public IP',
      { routes: [LOCAL, IGW], publicIp: false },
      [/routes 0\.0\.0\.0\/0 to igw-1 but the builder has no public IPv4 address/, /MapPublicIpOnLaunch/],
    ],
    ['NAT route is a blackhole (NAT gateway deleted)', { routes: [LOCAL, BLACKHOLE_NAT] }, [/no 0\.0\.0\.0\/0 route/]],
    [
      'only some endpoints exist',
      { routes: [LOCAL], endpoints: [endpoint('ssm'), endpoint('s3')] },
      [/no ssmmessages, ec2messages interface endpoints/],
    ],
    [
      'endpoints without private DNS',
      {
        routes: [LOCAL],
        endpoints: ['ssm', 'ssmmessages', 'ec2messages'].map((n) => endpoint(n, { PrivateDnsEnabled: false })),
      },
      [/no ssm, ssmmessages, ec2messages interface endpoints with private DNS/],
    ],
    [
      'endpoints still pending',
      {
        routes: [LOCAL],
        endpoints: ['ssm', 'ssmmessages', 'ec2messages'].map((n) => endpoint(n, { State: 'Pending' })),
      },
      [/no ssm, ssmmessages, ec2messages/],
    ],
    ['no table of its own, main table has only the local route', { mainRoutes: [LOCAL] }, [/route table rtb-main/]],
    [
      'route is fine but the security group allows no 443 out',
      { routes: [LOCAL, NAT], egress: [HTTP_ONLY_OUT] },
      [/no security group of the builder \(sg-builder\) allows outbound TCP 443/],
    ],
    [
      'security group with no egress at all',
      { routes: [LOCAL, IGW], publicIp: true, egress: [] },
      [/outbound TCP 443/],
    ],
  ];
  it.each(unreachable)('fails fast with Kiln.BuilderUnreachable: %s', async (_name, shape, patterns) => {
    const t = networkSetup(shape);
    const err = (await t.check().catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('Kiln.BuilderUnreachable');
    expect(err.message).toContain('i-0abc');
    for (const p of patterns) expect(err.message).toMatch(p);
  });

  it('does not inspect the network during the grace period', async () => {
    const t = networkSetup({ routes: [LOCAL] });
    t.setNow('2026-01-01T00:00:30.000Z');
    expect((await t.check()).wait?.done).toBe(false);
    expect(t.ec2).not.toHaveReceivedCommand(DescribeRouteTablesCommand);
  });

  it('does not inspect the network of an instance that is still pending', async () => {
    const t = networkSetup({ routes: [LOCAL] });
    t.ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [
        { Instances: [{ InstanceId: 'i-0abc', State: { Name: 'pending' }, SubnetId: 'subnet-1', VpcId: 'vpc-1' }] },
      ],
    });
    expect((await t.check()).wait?.done).toBe(false);
    expect(t.ec2).not.toHaveReceivedCommand(DescribeRouteTablesCommand);
  });

  it('keeps waiting when the network cannot be inspected (describe denied)', async () => {
    const t = networkSetup({ routes: [LOCAL] });
    t.ec2
      .on(DescribeRouteTablesCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'UnauthorizedOperation' }));
    expect((await t.check()).wait?.done).toBe(false);
  });

  it('is done without inspecting anything once the instance is Online', async () => {
    const t = networkSetup({ routes: [LOCAL] });
    t.ssm
      .on(DescribeInstanceInformationCommand)
      .resolves({ InstanceInformationList: [{ InstanceId: 'i-0abc', PingStatus: 'Online' }] });
    expect((await t.check()).wait?.done).toBe(true);
    expect(t.ec2).not.toHaveReceivedCommand(DescribeRouteTablesCommand);
  });
});
