import { Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { tagComponent } from './component-tag.ts';

/** A VPC the user already has; ids only, so synth needs no lookup (and no credentials). */
export interface ExistingBuilderVpc {
  readonly vpcId: string;
  /** Subnets builders launch into; they need a route to SSM and S3 (NAT, endpoints or public IPs). */
  readonly subnetIds: readonly string[];
}

export interface BuilderNetworkProps {
  /**
   * Launch builders into this VPC.
   * @default - a new two-AZ VPC with public subnets only (see the class comment for why)
   */
  readonly existingVpc?: ExistingBuilderVpc;
  /** Key of the VPC flow log group (only used when the VPC is created here). */
  readonly logsKey: kms.IKey;
  /**
   * TCP ports builders may open outbound connections to, anywhere. 443 covers SSM, S3 and HTTPS mirrors; 80 is
   * what stock Debian/Ubuntu apt mirrors use (plain HTTP, packages signed), so the default allows both, as a Packer
   * user's default security group would. Tighten to [443] when every mirror a template uses is HTTPS.
   * @default [80, 443]
   */
  readonly egressPorts?: readonly number[];
  /**
   * For builders without internet access: create the VPC endpoints the SSM agent and Kiln need (interface
   * endpoints ssm, ssmmessages, ec2messages, logs, plus kms when `kms` is set; an S3 gateway endpoint). With a
   * created VPC, its subnets become isolated (no internet gateway, no public IPs). With an existing VPC, give the
   * route tables of its builder subnets for the S3 gateway endpoint; the VPC needs DNS support and hostnames on.
   * Provisioners then reach nothing outside AWS (no apt, pip or curl to the internet).
   * @default - none (builders reach SSM over the internet)
   */
  readonly privateEndpoints?: PrivateEndpointsOptions;
  /** @default 90 */
  readonly flowLogRetentionDays?: logs.RetentionDays;
}

export interface PrivateEndpointsOptions {
  /** Existing VPC only: route tables of the builder subnets, for the S3 gateway endpoint. */
  readonly routeTableIds?: readonly string[];
  /** Also a KMS interface endpoint (templates using customer-managed keys). @default false */
  readonly kms?: boolean;
}

/** Interface endpoints builders need without internet access (the SSM agent's three, and Run Command output). */
export const BUILDER_INTERFACE_ENDPOINTS = ['ssm', 'ssmmessages', 'ec2messages', 'logs'] as const;

const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const ROUTE_TABLE_ID = /^rtb-[0-9a-f]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;

/**
 * Where builder instances run, and the security group they wear.
 *
 * The security group has NO ingress rule: Kiln drives builders through SSM Run Command, whose agent dials out,
 * so nothing ever needs to connect in (Packer's SSH/WinRM port is not opened). Egress is 80 and 443 by default
 * (HTTPS for SSM and S3, HTTP for stock apt mirrors); `egressPorts` tightens it.
 *
 * Default VPC choice (no `existingVpc`): public subnets, no NAT gateway, plus a free S3 gateway endpoint.
 * Builders get a public IPv4 address but accept no inbound traffic. Why not the alternatives:
 * - private subnets + NAT: ~33 USD/month per NAT before traffic, for a factory that is idle most of the time;
 * - isolated subnets + interface endpoints (ssm, ssmmessages, ec2messages): the most closed option, but ~44 USD
 *   per month for three endpoints in two AZs, and provisioners could not reach the internet (apt, pip, curl),
 *   which breaks most real Packer templates.
 * Users who need either pass their own VPC and subnets (context `vpcId`, `subnetIds`); `privateEndpoints` creates
 * the endpoints for subnets without a way to the internet (CheckManaged names what is missing when a builder cannot
 * reach SSM).
 */
export class BuilderNetwork extends Construct {
  public readonly vpc: ec2.IVpc;
  /** Subnets builders launch into (ids, or tokens when the VPC is created here). */
  public readonly subnetIds: readonly string[];
  public readonly securityGroup: ec2.SecurityGroup;
  /** The interface endpoints created for `privateEndpoints`, by service short name. */
  public readonly interfaceEndpoints: ReadonlyMap<string, ec2.InterfaceVpcEndpoint>;

  constructor(scope: Construct, id: string, props: BuilderNetworkProps) {
    super(scope, id);
    const egressPorts = props.egressPorts ?? [80, 443];
    validate(props.existingVpc, egressPorts, props.privateEndpoints);
    const isolated = props.privateEndpoints !== undefined;

    if (props.existingVpc) {
      // Only the id is used (security group, IAM condition); Fn::GetAZs satisfies the attribute without a
      // context lookup, which would need credentials at synth time.
      this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: props.existingVpc.vpcId,
        availabilityZones: Fn.getAzs(),
      });
      this.subnetIds = [...props.existingVpc.subnetIds];
    } else {
      const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
        encryptionKey: props.logsKey,
        retention: props.flowLogRetentionDays ?? logs.RetentionDays.THREE_MONTHS,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const vpc = new ec2.Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: 0,
        subnetConfiguration: [
          {
            name: 'builders',
            subnetType: isolated ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PUBLIC,
            cidrMask: 24,
          },
        ],
        // true would add a Custom:: resource (Lambda) to strip the default security group; Kiln never uses the
        // default group, and custom resources do not deploy into the local harness.
        restrictDefaultSecurityGroup: false,
        flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup) } },
      });
      // Free, and keeps artifact traffic on the AWS network.
      vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });
      this.vpc = vpc;
      this.subnetIds = (isolated ? vpc.isolatedSubnets : vpc.publicSubnets).map((subnet) => subnet.subnetId);
    }

    this.securityGroup = new ec2.SecurityGroup(this, 'BuilderSecurityGroup', {
      vpc: this.vpc,
      description: 'Kiln builders: no ingress (SSM agent dials out), egress to the listed ports only',
      allowAllOutbound: false,
    });
    for (const port of egressPorts) {
      this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), `builder egress tcp/${port}`);
    }
    this.interfaceEndpoints = props.privateEndpoints ? this.addEndpoints(props.privateEndpoints, props) : new Map();
    tagComponent(this, 'builder-network');
  }

  private addEndpoints(
    options: PrivateEndpointsOptions,
    props: BuilderNetworkProps,
  ): Map<string, ec2.InterfaceVpcEndpoint> {
    const endpointGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'Kiln VPC endpoints: HTTPS from builders only',
      allowAllOutbound: false,
    });
    endpointGroup.addIngressRule(this.securityGroup, ec2.Port.tcp(443), 'HTTPS from Kiln builders');
    // Without any egress rule CDK adds a "disallow all" placeholder rule; endpoints never open connections.
    const subnets = props.existingVpc
      ? {
          subnets: props.existingVpc.subnetIds.map((id, i) => ec2.Subnet.fromSubnetId(this, `BuilderSubnet${i}`, id)),
        }
      : { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    const names = [...BUILDER_INTERFACE_ENDPOINTS, ...(options.kms ? ['kms'] : [])];
    const endpoints = new Map<string, ec2.InterfaceVpcEndpoint>();
    for (const name of names) {
      endpoints.set(
        name,
        new ec2.InterfaceVpcEndpoint(this, `${name[0]?.toUpperCase()}${name.slice(1)}Endpoint`, {
          vpc: this.vpc,
          service: new ec2.InterfaceVpcEndpointAwsService(name),
          subnets,
          securityGroups: [endpointGroup],
          privateDnsEnabled: true,
          open: false,
        }),
      );
    }
    if (props.existingVpc) {
      // A created VPC got its S3 gateway endpoint above; an imported one needs its route tables named.
      new ec2.CfnVPCEndpoint(this, 'S3Endpoint', {
        vpcId: this.vpc.vpcId,
        serviceName: `com.amazonaws.${Stack.of(this).region}.s3`,
        vpcEndpointType: 'Gateway',
        routeTableIds: [...(options.routeTableIds ?? [])],
      });
    }
    return endpoints;
  }
}

function validate(
  existing: ExistingBuilderVpc | undefined,
  egressPorts: readonly number[],
  endpoints: PrivateEndpointsOptions | undefined,
): void {
  if (endpoints && existing) {
    const tables = endpoints.routeTableIds ?? [];
    if (tables.length === 0) {
      throw new Error(
        'BuilderNetwork: privateEndpoints with an existing VPC needs the route tables of the builder subnets ' +
          '(context kiln:routeTableIds) for the S3 gateway endpoint',
      );
    }
    const bad = tables.filter((id) => !ROUTE_TABLE_ID.test(id));
    if (bad.length > 0) throw new Error(`BuilderNetwork: not route table ids: ${bad.join(', ')}`);
  }
  if (endpoints?.routeTableIds && !existing) {
    throw new Error('BuilderNetwork: routeTableIds apply to an existing VPC only (a created VPC knows its own)');
  }
  if (existing) {
    if (!VPC_ID.test(existing.vpcId)) throw new Error(`BuilderNetwork: "${existing.vpcId}" is not a VPC id`);
    if (existing.subnetIds.length === 0)
      throw new Error('BuilderNetwork: an existing VPC needs at least one subnet id');
    const bad = existing.subnetIds.filter((subnetId) => !SUBNET_ID.test(subnetId));
    if (bad.length > 0) throw new Error(`BuilderNetwork: not subnet ids: ${bad.join(', ')}`);
  }
  if (egressPorts.length === 0) throw new Error('BuilderNetwork: builders need at least one egress port (443 for SSM)');
  for (const port of egressPorts) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`BuilderNetwork: bad port ${port}`);
  }
}
