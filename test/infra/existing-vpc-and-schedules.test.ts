import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { normalizeInput, prepareInputSchema } from '../../functions/common/prepare-build/input.ts';
import { scheduleExpression } from '../../infra/constructs/triggers.ts';
import type { KilnStack } from '../../infra/kiln-stack.ts';
import { logicalId, statementsOfRole, synthFixtureStack, text } from './helpers.ts';

const VPC = 'vpc-0123456789abcdef0';
const SUBNETS = ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'];

// Second (and last) synthesis: the user's VPC from context, two schedules, a pinned environment, port 80 allowed.
let stack: KilnStack;
let template: Template;
beforeAll(() => {
  ({ stack, template } = synthFixtureStack({
    vpcId: VPC,
    subnetIds: SUBNETS.join(','),
    account: '111122223333',
    region: 'eu-west-1',
    'kiln:stackName': 'KilnEu',
    'kiln:egressPorts': '443,80',
    'kiln:logLevel': 'DEBUG',
    'kiln:schedules': JSON.stringify([
      {
        name: 'nightly-base',
        cron: '0 3 * * ? *',
        template: { bucket: 'my-templates', key: 'templates/base.pkr.hcl' },
      },
      {
        name: 'weekly',
        cron: 'rate(7 days)',
        template: { bucket: 'my-templates', key: 'templates/web.json' },
        timezone: 'Europe/Paris',
        onlyIfChanged: true,
      },
    ]),
  }));
});

describe('with the user VPC from context', () => {
  it('creates no VPC and puts the builder security group in the given one', () => {
    expect(stack.stackName).toBe('KilnEu');
    expect(stack.region).toBe('eu-west-1');
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.resourceCountIs('AWS::EC2::Subnet', 0);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: VPC });
    const sg = template.toJSON().Resources[logicalId(stack, stack.network.securityGroup)].Properties;
    expect(sg.SecurityGroupIngress).toBeUndefined();
    expect(sg.SecurityGroupEgress.map((rule: { FromPort: number }) => rule.FromPort)).toEqual([443, 80]);
  });

  it('hands the subnet ids to the launch function and pins network permissions to the VPC', () => {
    const launch = stack.pipeline.functions.get('LaunchBuilder');
    if (!launch) throw new Error('missing');
    const env = template.toJSON().Resources[logicalId(stack, launch)].Properties.Environment.Variables;
    expect(env.KILN_SUBNET_IDS).toBe(SUBNETS.join(','));
    expect(env.POWERTOOLS_LOG_LEVEL).toBe('DEBUG');
    const network = statementsOfRole(template, logicalId(stack, launch.role ?? launch)).find(
      (s) => s.Sid === 'RunBuildersInBuilderVpc',
    );
    expect(text(network?.Condition)).toContain(`:vpc/${VPC}`);
  });
});

describe('scheduled rebuilds', () => {
  // PrepareBuild's own parser, imported here so the infra side cannot drift from it.
  it('creates one EventBridge Scheduler schedule per entry, targeting the build machine with an event-shaped input', () => {
    const machine = stack.stateMachines.get('build');
    if (!machine) throw new Error('missing');
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule')).map((r) => r.Properties);
    expect(schedules.map((s) => [s.Name, s.ScheduleExpression, s.ScheduleExpressionTimezone])).toEqual([
      ['nightly-base', 'cron(0 3 * * ? *)', 'UTC'],
      ['weekly', 'rate(7 days)', 'Europe/Paris'],
    ]);
    for (const s of schedules) {
      expect(s.Target.Arn).toEqual({ Ref: logicalId(stack, machine.stateMachine) });
      expect(s.Target.RoleArn).toEqual({ 'Fn::GetAtt': [logicalId(stack, stack.triggers.startRole), 'Arn'] });
      expect(s.Target.DeadLetterConfig.Arn).toEqual({
        'Fn::GetAtt': [logicalId(stack, stack.triggers.deadLetterQueue), 'Arn'],
      });
    }
    expect(JSON.parse(schedules[0]?.Target.Input)).toEqual({
      version: '0',
      source: 'kiln.scheduler',
      'detail-type': 'Scheduled Build',
      detail: { schedule: 'nightly-base', bucket: { name: 'my-templates' }, object: { key: 'templates/base.pkr.hcl' } },
    });
  });

  it('puts them in the kiln schedule group, whose tags tell `kiln schedules add` what to target', () => {
    const groups = Object.values(template.findResources('AWS::Scheduler::ScheduleGroup')).map((r) => r.Properties);
    expect(groups.map((g) => g.Name)).toEqual(['kiln']);
    const tags = Object.fromEntries(
      ((groups[0]?.Tags ?? []) as { Key: string; Value: unknown }[]).map((t) => [t.Key, t.Value]),
    );
    const machine = stack.stateMachines.get('build');
    if (!machine) throw new Error('missing');
    expect(tags).toMatchObject({
      'kiln:state-machine-arn': { Ref: logicalId(stack, machine.stateMachine) },
      'kiln:start-role-arn': { 'Fn::GetAtt': [logicalId(stack, stack.triggers.startRole), 'Arn'] },
      'kiln:dead-letter-queue-arn': { 'Fn::GetAtt': [logicalId(stack, stack.triggers.deadLetterQueue), 'Arn'] },
      'kiln:template-bucket': { Ref: logicalId(stack, stack.store.templateBucket) },
    });
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule')).map((r) => r.Properties);
    for (const s of schedules) {
      expect(s.GroupName).toEqual('kiln');
      // `kiln schedules delete` refuses these: the CDK app owns them.
      expect(s.Description).toContain('(managed by the Kiln stack)');
    }
    expect(JSON.parse(schedules[1]?.Target.Input).detail.onlyIfChanged).toBe(true);
  });

  it('sends an input PrepareBuild accepts: the synthesized schedule input crosses the contract', () => {
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule')).map((r) => r.Properties);
    for (const s of schedules) {
      const parsed = prepareInputSchema.parse({ input: JSON.parse(s.Target.Input), executionName: 'e' });
      expect(normalizeInput(parsed.input)).toMatchObject({
        trigger: 'schedule',
        schedule: s.Name,
        template: { bucket: 'my-templates' },
      });
    }
  });

  it('lets the scheduler role start the build machine and write to the dead-letter queue, nothing else', () => {
    const actions = statementsOfRole(template, logicalId(stack, stack.triggers.startRole)).flatMap((s) =>
      [s.Action].flat(),
    );
    expect(new Set(actions)).toEqual(
      new Set(['states:StartExecution', 'sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl']),
    );
    const role = template.toJSON().Resources[logicalId(stack, stack.triggers.startRole)].Properties;
    expect(text(role.AssumeRolePolicyDocument)).toContain('scheduler.amazonaws.com');
    expect(text(role.AssumeRolePolicyDocument)).toContain('aws:SourceAccount');
  });
});

describe('scheduleExpression', () => {
  it.each([
    ['cron(0 3 * * ? *)', 'cron(0 3 * * ? *)'],
    ['rate(1 day)', 'rate(1 day)'],
    ['  0 3 ? * MON *  ', 'cron(0 3 ? * MON *)'],
  ])('%j → %j', (input, expected) => {
    expect(scheduleExpression(input)).toBe(expected);
  });
  it('rejects anything else', () => {
    expect(() => scheduleExpression('every night')).toThrow(/not a schedule expression/);
  });
});
