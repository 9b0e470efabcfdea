/**
 * Why a builder cannot reach Systems Manager, found from its network instead of waiting out the 10-minute
 * deadline. The SSM agent dials out over HTTPS to ssm, ssmmessages and ec2messages; it gets there through an
 * internet gateway (with a public IPv4 address), a NAT or transit route, or the three VPC interface endpoints.
 * A network with none of these can never bring the instance Online, so CheckManaged fails fast with
 * Kiln.BuilderUnreachable. A network that looks fine says nothing: the deadline keeps its usual causes.
 * Pure analysis (`diagnoseNetwork`) apart from the describe calls (`gatherNetworkFacts`).
 */
import {
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcEndpointsCommand,
  type EC2Client,
  type Instance,
  type IpPermission,
  type Route,
  type SecurityGroup,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';

/** The endpoints the SSM agent needs when the subnet has no way out to the internet. */
export const SSM_AGENT_ENDPOINTS = ['ssm', 'ssmmessages', 'ec2messages'] as const;

export interface NetworkFacts {
  readonly instanceId: string;
  readonly region: string;
  readonly subnetId: string;
  readonly vpcId: string;
  readonly hasPublicIpv4: boolean;
  /** The subnet's route table (its explicit association, else the VPC's main table); undefined if none found. */
  readonly routeTable?: { readonly id: string; readonly routes: readonly Route[] };
  readonly endpoints: readonly VpcEndpoint[];
  readonly securityGroups: readonly SecurityGroup[];
}

type DefaultRoute = { kind: 'internet-gateway' | 'nat' | 'other'; target: string } | undefined;

function defaultRoute(routes: readonly Route[]): DefaultRoute {
  for (const r of routes) {
    if (r.DestinationCidrBlock !== '0.0.0.0/0' || r.State === 'blackhole') continue;
    if (r.GatewayId?.startsWith('igw-')) return { kind: 'internet-gateway', target: r.GatewayId };
    if (r.NatGatewayId) return { kind: 'nat', target: r.NatGatewayId };
    // Transit gateway, network interface (NAT instance, firewall), peering: trust it, we cannot see beyond.
    const target =
      r.TransitGatewayId ?? r.NetworkInterfaceId ?? r.InstanceId ?? r.VpcPeeringConnectionId ?? r.GatewayId;
    if (target && !target.startsWith('local')) return { kind: 'other', target };
  }
  return undefined;
}

/** Short names (`ssm`, `s3`, ...) of the usable endpoints of the VPC in this region. */
function endpointNames(facts: NetworkFacts): Set<string> {
  const prefix = `com.amazonaws.${facts.region}.`;
  const names = new Set<string>();
  for (const e of facts.endpoints) {
    const state = (e.State ?? '').toLowerCase();
    if (state !== 'available' && state !== '') continue;
    if (!e.ServiceName?.startsWith(prefix)) continue;
    const name = e.ServiceName.slice(prefix.length);
    // An interface endpoint without private DNS is not used by the agent, which calls the public host names.
    if (e.VpcEndpointType === 'Interface' && e.PrivateDnsEnabled === false) continue;
    names.add(name);
  }
  return names;
}

function allowsHttpsOut(rule: IpPermission): boolean {
  const protocol = rule.IpProtocol ?? '';
  const portOk =
    protocol === '-1' ||
    (protocol === 'tcp' && (rule.FromPort ?? 0) <= 443 && (rule.ToPort ?? 65535) >= 443) ||
    protocol === 'all';
  const somewhere =
    (rule.IpRanges?.length ?? 0) > 0 ||
    (rule.Ipv6Ranges?.length ?? 0) > 0 ||
    (rule.PrefixListIds?.length ?? 0) > 0 ||
    (rule.UserIdGroupPairs?.length ?? 0) > 0;
  return portOk && somewhere;
}

/**
 * What keeps the builder from reaching Systems Manager, one sentence per problem with its fix; empty when the
 * network offers a way (the instance may still be starting, or the cause is elsewhere).
 */
export function diagnoseNetwork(facts: NetworkFacts): string[] {
  const problems: string[] = [];
  const route = facts.routeTable ? defaultRoute(facts.routeTable.routes) : undefined;
  const names = endpointNames(facts);
  const missingEndpoints = SSM_AGENT_ENDPOINTS.filter((n) => !names.has(n));
  const table = facts.routeTable ? `route table ${facts.routeTable.id}` : 'no route table';
  const viaInternet = route !== undefined && (route.kind !== 'internet-gateway' || facts.hasPublicIpv4);
  if (!viaInternet && missingEndpoints.length > 0) {
    if (route?.kind === 'internet-gateway') {
      problems.push(
        `subnet ${facts.subnetId} routes 0.0.0.0/0 to ${route.target} but the builder has no public IPv4 address: ` +
          'turn on "auto-assign public IPv4 address" (MapPublicIpOnLaunch) for the subnet, or use a private ' +
          'subnet whose route table sends 0.0.0.0/0 to a NAT gateway',
      );
    } else {
      problems.push(
        `subnet ${facts.subnetId} (${table}) has no 0.0.0.0/0 route to an internet or NAT gateway, and VPC ` +
          `${facts.vpcId} has no ${missingEndpoints.join(', ')} interface endpoint${missingEndpoints.length > 1 ? 's' : ''} ` +
          'with private DNS: add a NAT gateway route, or create the endpoints (Kiln creates them with the ' +
          '`kiln:privateEndpoints` context), or launch builders in a public subnet',
      );
    }
    if (!names.has('s3')) {
      problems.push(`VPC ${facts.vpcId} has no S3 endpoint either: builders read their staged files from S3`);
    }
  }
  if (facts.securityGroups.length > 0) {
    const https = facts.securityGroups.some((g) => (g.IpPermissionsEgress ?? []).some(allowsHttpsOut));
    if (!https) {
      const ids = facts.securityGroups.map((g) => g.GroupId).join(', ');
      problems.push(
        `no security group of the builder (${ids}) allows outbound TCP 443, which the SSM agent needs: add an ` +
          "egress rule for 443 (or drop security_group_ids from the template to use Kiln's group)",
      );
    }
  }
  return problems;
}

/** The describe calls behind `diagnoseNetwork`; undefined when the instance has no subnet (nothing to check). */
export async function gatherNetworkFacts(
  ec2: EC2Client,
  region: string,
  instance: Instance,
): Promise<NetworkFacts | undefined> {
  const { InstanceId: instanceId, SubnetId: subnetId, VpcId: vpcId } = instance;
  if (!instanceId || !subnetId || !vpcId) return undefined;
  const associated = await ec2.send(
    new DescribeRouteTablesCommand({ Filters: [{ Name: 'association.subnet-id', Values: [subnetId] }] }),
  );
  let table = associated.RouteTables?.[0];
  if (!table) {
    const main = await ec2.send(
      new DescribeRouteTablesCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpcId] },
          { Name: 'association.main', Values: ['true'] },
        ],
      }),
    );
    table = main.RouteTables?.[0];
  }
  const endpoints = await ec2.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }));
  const groupIds = (instance.SecurityGroups ?? []).map((g) => g.GroupId).filter((id): id is string => !!id);
  const groups =
    groupIds.length > 0 ? await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: groupIds })) : undefined;
  return {
    instanceId,
    region,
    subnetId,
    vpcId,
    hasPublicIpv4: !!instance.PublicIpAddress,
    ...(table?.RouteTableId ? { routeTable: { id: table.RouteTableId, routes: table.Routes ?? [] } } : {}),
    endpoints: endpoints.VpcEndpoints ?? [],
    securityGroups: groups?.SecurityGroups ?? [],
  };
}
