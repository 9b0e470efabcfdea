import { Fn, RemovalPolicy } from 'aws-cdk-lib';
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
   * TCP ports builders may open outbound connections to, anywhere. 443 covers SSM, S3 and most package mirrors;
   * add 80 for distributions whose mirrors are plain HTTP (Debian/Ubuntu defaults).
   * @default [443]
   */
  readonly egressPorts?: readonly number[];
  /** @default 90 */
  readonly flowLogRetentionDays?: logs.RetentionDays;
}

const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;

/**
 * Where builder instances run, and the security group they wear.
 *
 * The security group has NO ingress rule: Kiln drives builders through SSM Run Command, whose agent dials out,
 * so nothing ever needs to connect in (Packer's SSH/WinRM port is not opened). Egress is 443 only by default.
 *
 * Default VPC choice (no `existingVpc`): public subnets, no NAT gateway, plus a free S3 gateway endpoint.
 * Builders get a public IPv4 address but accept no inbound traffic. Why not the alternatives:
 * - private subnets + NAT: ~33 USD/month per NAT before traffic, for a factory that is idle most of the time;
 * - isolated subnets + interface endpoints (ssm, ssmmessages, ec2messages): the most closed option, but ~44 USD
 *   per month for three endpoints in two AZs, and provisioners could not reach the internet (apt, pip, curl),
 *   which breaks most real Packer templates.
 * Users who need either pass their own VPC and subnets (context `vpcId`, `subnetIds`).
 */
export class BuilderNetwork extends Construct {
  public readonly vpc: ec2.IVpc;
  /** Subnets builders launch into (ids, or tokens when the VPC is created here). */
  public readonly subnetIds: readonly string[];
  public readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: BuilderNetworkProps) {
    super(scope, id);
    const egressPorts = props.egressPorts ?? [443];
    validate(props.existingVpc, egressPorts);

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
        subnetConfiguration: [{ name: 'builders', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
        // true would add a Custom:: resource (Lambda) to strip the default security group; Kiln never uses the
        // default group, and custom resources do not deploy into the local harness.
        restrictDefaultSecurityGroup: false,
        flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup) } },
      });
      // Free, and keeps artifact traffic on the AWS network.
      vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });
      this.vpc = vpc;
      this.subnetIds = vpc.publicSubnets.map((subnet) => subnet.subnetId);
    }

    this.securityGroup = new ec2.SecurityGroup(this, 'BuilderSecurityGroup', {
      vpc: this.vpc,
      description: 'Kiln builders: no ingress (SSM agent dials out), egress to the listed ports only',
      allowAllOutbound: false,
    });
    for (const port of egressPorts) {
      this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), `builder egress tcp/${port}`);
    }
    tagComponent(this, 'builder-network');
  }
}

function validate(existing: ExistingBuilderVpc | undefined, egressPorts: readonly number[]): void {
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
