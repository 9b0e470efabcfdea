/**
 * The deployment options of the real-AWS defects, on the REAL registry (functions/registry.ts) and ASL: customer
 * KMS keys granted through EC2 to exactly the stages that need them, and VPC endpoints for builders without
 * internet access. One synthesis (bundling skipped); cdk-nag runs during it.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { beforeAll, describe, expect, it } from 'vitest';
import { KILN_FUNCTIONS } from '../../functions/registry.ts';
import { BuilderNetwork } from '../../infra/constructs/builder-network.ts';
import { createKilnApp } from '../../infra/kiln-app.ts';
import type { KilnStack } from '../../infra/kiln-stack.ts';
import { actionsOf, logicalId, resourcesOf, type Statement, statementsOfRole, text } from './helpers.ts';

const VPC = 'vpc-0123456789abcdef0';
const SUBNETS = ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'];
const TABLES = ['rtb-0123456789abcdef0'];
const KEYS = [
  'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  'arn:aws:kms:us-east-1:111122223333:key/mrk-5678abcd12ab34cd56ef1234567890ab',
];

let stack: KilnStack;
let template: Template;
beforeAll(() => {
  ({ stack } = createKilnApp({
    appProps: {
      context: {
        'aws:cdk:bundling-stacks': [],
        vpcId: VPC,
        subnetIds: SUBNETS.join(','),
        account: '111122223333',
        region: 'eu-west-1',
        'kiln:kmsKeyArns': KEYS.join(','),
        'kiln:privateEndpoints': 'true',
        'kiln:routeTableIds': TABLES.join(','),
        'kiln:endpointsKms': 'true',
      },
    },
  }));
  template = Template.fromStack(stack);
});

function roleStatements(id: string): Statement[] {
  const fn = stack.pipeline.functions.get(id);
  if (!fn?.role) throw new Error(`missing ${id}`);
  return statementsOfRole(template, logicalId(stack, fn.role));
}

const kmsStatements = (id: string) => roleStatements(id).filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
const buildKeyStatements = (id: string) =>
  kmsStatements(id).filter((s) => resourcesOf(s).some((r) => typeof r === 'string' && KEYS.includes(r)));

describe('customer-managed KMS keys (kiln:kmsKeyArns)', () => {
  const users = ['LaunchBuilder', 'CreateImage', 'Distribute'];
  it.each(users)('%s may create grants for AWS resources on exactly the listed keys, through EC2', (id) => {
    const grant = buildKeyStatements(id).find((s) => actionsOf(s).includes('kms:CreateGrant'));
    expect(grant).toBeDefined();
    expect(actionsOf(grant as Statement)).toEqual(['kms:CreateGrant']);
    expect(resourcesOf(grant as Statement)).toEqual(KEYS);
    expect(grant?.Condition).toEqual({
      Bool: { 'kms:GrantIsForAWSResource': 'true' },
      StringLike: { 'kms:ViaService': 'ec2.*.amazonaws.com' },
    });
  });

  it.each(users)('%s may use the listed keys for EBS (decrypt, data keys, re-encrypt, describe) through EC2', (id) => {
    const use = buildKeyStatements(id).find((s) => actionsOf(s).includes('kms:Decrypt'));
    expect(actionsOf(use as Statement).sort()).toEqual(
      [
        'kms:Decrypt',
        'kms:DescribeKey',
        'kms:GenerateDataKeyWithoutPlaintext',
        'kms:ReEncryptFrom',
        'kms:ReEncryptTo',
      ].sort(),
    );
    expect(resourcesOf(use as Statement)).toEqual(KEYS);
    expect(use?.Condition).toEqual({ StringLike: { 'kms:ViaService': 'ec2.*.amazonaws.com' } });
  });

  const others = KILN_FUNCTIONS.map((f) => f.id).filter((id) => !users.includes(id));
  it.each(others)('%s gets no access to the build keys', (id) => {
    expect(buildKeyStatements(id)).toEqual([]);
  });

  it('tells PrepareBuild the same list, so it refuses any other key', () => {
    const prepare = stack.pipeline.functions.get('PrepareBuild');
    if (!prepare) throw new Error('missing');
    const env = template.toJSON().Resources[logicalId(stack, prepare)].Properties.Environment.Variables;
    expect(env.KILN_KMS_KEY_ARNS).toBe(KEYS.join(','));
  });

  it('grants no build key on "*" anywhere', () => {
    for (const fn of KILN_FUNCTIONS) {
      for (const s of kmsStatements(fn.id)) {
        if (actionsOf(s).includes('kms:CreateGrant')) expect(resourcesOf(s)).not.toContain('*');
      }
    }
  });

  it.each([['alias/builds'], ['1234abcd-12ab-34cd-56ef-1234567890ab'], ['arn:aws:kms:eu-west-1:111122223333:alias/x']])(
    'refuses %s in kmsKeyArns at synth (only full key ARNs can be granted and matched)',
    (bad) => {
      expect(() =>
        createKilnApp({
          appProps: { context: { 'aws:cdk:bundling-stacks': [], 'kiln:kmsKeyArns': bad } },
          nag: false,
        }),
      ).toThrow(/kmsKeyArns must be full key ARNs/);
    },
  );
});

describe('private endpoints for builders without internet (kiln:privateEndpoints)', () => {
  const interfaceServices = () =>
    Object.values(template.findResources('AWS::EC2::VPCEndpoint'))
      .map((r) => r.Properties)
      .filter((p) => p.VpcEndpointType === 'Interface')
      .map((p) => text(p.ServiceName));

  it.each(['ssm', 'ssmmessages', 'ec2messages', 'logs', 'kms'])(
    'creates the %s interface endpoint in the builder subnets with private DNS',
    (name) => {
      const match = Object.values(template.findResources('AWS::EC2::VPCEndpoint'))
        .map((r) => r.Properties)
        .find((p) => p.VpcEndpointType === 'Interface' && text(p.ServiceName).endsWith(`.${name}"`));
      expect(match).toBeDefined();
      expect(match?.VpcId).toBe(VPC);
      expect(match?.SubnetIds).toEqual(SUBNETS);
      expect(match?.PrivateDnsEnabled).toBe(true);
    },
  );

  it('creates exactly those interface endpoints', () => {
    expect(interfaceServices()).toHaveLength(5);
  });

  it('creates the S3 gateway endpoint on the given route tables', () => {
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      VpcId: VPC,
      RouteTableIds: TABLES,
      ServiceName: 'com.amazonaws.eu-west-1.s3',
    });
  });

  it('lets only the builders reach the endpoints, on 443', () => {
    const builderGroup = logicalId(stack, stack.network.securityGroup);
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties);
    expect(ingress).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        SourceSecurityGroupId: { 'Fn::GetAtt': [builderGroup, 'GroupId'] },
      }),
    ]);
  });
});

describe('BuilderNetwork options', () => {
  function network(props: Partial<ConstructorParameters<typeof BuilderNetwork>[2]>) {
    const stack = new Stack(new App(), 'Net', { env: { account: '111122223333', region: 'eu-west-1' } });
    const logsKey = new kms.Key(stack, 'Logs');
    const net = new BuilderNetwork(stack, 'Network', { logsKey, ...props });
    return { net, template: Template.fromStack(stack) };
  }

  it('with a created VPC, privateEndpoints makes isolated subnets (no internet gateway, no public IPs) and the endpoints', () => {
    const { template } = network({ privateEndpoints: {} });
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    for (const subnet of Object.values(template.findResources('AWS::EC2::Subnet'))) {
      expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
    }
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
    const interfaces = Object.values(template.findResources('AWS::EC2::VPCEndpoint')).filter(
      (r) => r.Properties.VpcEndpointType === 'Interface',
    );
    expect(interfaces).toHaveLength(4);
  });

  it('egressPorts tightens the default 80 + 443', () => {
    const { template } = network({ egressPorts: [443] });
    const group = Object.values(template.findResources('AWS::EC2::SecurityGroup'))[0]?.Properties;
    expect(group.SecurityGroupEgress.map((r: { FromPort: number }) => r.FromPort)).toEqual([443]);
  });

  it.each([
    [{ existingVpc: { vpcId: VPC, subnetIds: SUBNETS }, privateEndpoints: {} }, /needs the route tables/],
    [
      { existingVpc: { vpcId: VPC, subnetIds: SUBNETS }, privateEndpoints: { routeTableIds: ['main'] } },
      /not route table ids: main/,
    ],
    [{ privateEndpoints: { routeTableIds: TABLES } }, /existing VPC only/],
  ])('refuses inconsistent endpoint options (%#)', (props, message) => {
    expect(() => network(props)).toThrow(message);
  });
});
