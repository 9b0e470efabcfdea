import { join } from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { REGISTRY_TABLE } from '../../aws/image-registry-records.ts';
import { cliEnvFromOutputs, STACK_OUTPUTS } from '../../aws/stack-outputs.ts';
import { manifestKeyFor, STAGED_TAGGING } from '../../aws/store-layout.ts';
import { type FunctionSpec, type FunctionTrigger, KILN_ENV } from '../../functions/registry.ts';
import { loadStateMachine } from '../../infra/asl-files.ts';
import { placeholdersIn } from '../../infra/asl-placeholders.ts';
import { createKilnApp } from '../../infra/kiln-app.ts';
import type { KilnStack } from '../../infra/kiln-stack.ts';
import { FIXTURE_FUNCTIONS } from '../fixtures/infra/registry.ts';
import {
  actionsOf,
  allActions,
  FIXTURE_DIR,
  logicalId,
  resourcesOf,
  statementsOfRole,
  synthFixtureStack,
  text,
} from './helpers.ts';

// One synthesis for the whole file (~2-5 s); cdk-nag runs during it, so an unacknowledged finding fails here.
let stack: KilnStack;
let template: Template;
beforeAll(() => {
  ({ stack, template } = synthFixtureStack());
});

describe('stack outputs (aws/stack-outputs.ts, what the CLI and --local read)', () => {
  it("declares exactly the contract's outputs (the agent gateway URL only with an API), names shared with KILN_ENV", () => {
    const declared = Object.keys(template.toJSON().Outputs as Record<string, unknown>).sort();
    const contract = Object.values(STACK_OUTPUTS).map((o) => o.output);
    // The fixture registry has no api-route function, so the stack builds no REST API and has no URL to output.
    expect(declared).toEqual(contract.filter((o) => o !== STACK_OUTPUTS.agentGatewayUrl.output).sort());
    expect(KILN_ENV.templateBucket).toBe(STACK_OUTPUTS.templateBucket.env);
    expect(KILN_ENV.buildsTable).toBe(STACK_OUTPUTS.buildsTable.env);
    expect(KILN_ENV.registryTable).toBe(STACK_OUTPUTS.registryTable.env);
    expect(KILN_ENV.agentTable).toBe(STACK_OUTPUTS.agentTable.env);
    expect(cliEnvFromOutputs({ TemplateBucketName: 'b', Other: 'x' })).toEqual({ KILN_TEMPLATE_BUCKET: 'b' });
  });
});

describe('TemplateStore', () => {
  it('encrypts both data buckets with the rotating customer managed key, versioned, private, logged', () => {
    const dataKey = logicalId(stack, stack.keys.dataKey);
    for (const bucket of [stack.store.templateBucket, stack.store.artifactsBucket]) {
      const props = template.toJSON().Resources[logicalId(stack, bucket)].Properties;
      expect(props.BucketEncryption.ServerSideEncryptionConfiguration[0]).toEqual({
        BucketKeyEnabled: true,
        ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [dataKey, 'Arn'] } },
      });
      expect(props.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(props.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(props.LoggingConfiguration.DestinationBucketName).toEqual({
        Ref: logicalId(stack, stack.store.accessLogsBucket),
      });
    }
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      Description: Match.stringLikeRegexp('templates'),
    });
  });

  it('denies non-TLS access on every bucket', () => {
    for (const bucket of [stack.store.templateBucket, stack.store.artifactsBucket, stack.store.accessLogsBucket]) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: logicalId(stack, bucket) },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Principal: { AWS: '*' },
            }),
          ]),
        },
      });
    }
  });

  it('sends template bucket events to EventBridge natively, without a custom resource', () => {
    const props = template.toJSON().Resources[logicalId(stack, stack.store.templateBucket)].Properties;
    expect(props.NotificationConfiguration).toEqual({ EventBridgeConfiguration: { EventBridgeEnabled: true } });
    const types = Object.values(template.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type);
    expect(types.filter((type) => type.startsWith('Custom::'))).toEqual([]);
    expect(template.toJSON().Parameters?.BootstrapVersion).toBeUndefined();
  });

  it('expires per-build files and logs in the artifacts bucket', () => {
    const rules = template.toJSON().Resources[logicalId(stack, stack.store.artifactsBucket)].Properties
      .LifecycleConfiguration.Rules as Array<{
      Id: string;
      Prefix?: string;
      ExpirationInDays?: number;
      TagFilters?: unknown[];
    }>;
    expect(rules.find((r) => r.Id === 'expire-build-files-and-logs')).toMatchObject({
      Prefix: 'builds/',
      ExpirationInDays: 180,
    });
    expect(rules.find((r) => r.Id === 'expire-staged-files')).toMatchObject({
      Prefix: 'builds/',
      ExpirationInDays: 14,
      TagFilters: [{ Key: 'kiln:retention', Value: 'staged' }],
    });
  });

  it('keeps manifests (no expiring rule covers their keys) and tags staged files as the staged rule filters', () => {
    const rules = template.toJSON().Resources[logicalId(stack, stack.store.artifactsBucket)].Properties
      .LifecycleConfiguration.Rules as Array<{ Prefix?: string; ExpirationInDays?: number; TagFilters?: unknown[] }>;
    const manifestKey = manifestKeyFor('kb-0123');
    const expiring = rules.filter((r) => r.ExpirationInDays !== undefined && manifestKey.startsWith(r.Prefix ?? ''));
    expect(expiring).toEqual([]);
    // The Tagging the staging Lambda sends, parsed as S3 does, is exactly the staged rule's tag filter.
    const tagging = Object.fromEntries(new URLSearchParams(STAGED_TAGGING));
    const staged = rules.find((r) => r.TagFilters !== undefined);
    expect(staged?.TagFilters).toEqual(Object.entries(tagging).map(([Key, Value]) => ({ Key, Value })));
  });

  it('keys the builds table by buildId with point-in-time recovery and KMS', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'buildId', KeyType: 'HASH' }],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
    });
  });
});

describe('ImageRegistry', () => {
  it('keys the registry table as the records module does: on demand, KMS with the data key, PITR, retained', () => {
    const resource = template.toJSON().Resources[logicalId(stack, stack.registry.table)];
    const { partitionKey, sortKey, templateIndex } = REGISTRY_TABLE;
    expect(resource.DeletionPolicy).toBe('Retain');
    expect(resource.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: partitionKey, KeyType: 'HASH' },
        { AttributeName: sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: templateIndex.name,
          KeySchema: [
            { AttributeName: templateIndex.partitionKey, KeyType: 'HASH' },
            { AttributeName: templateIndex.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': [logicalId(stack, stack.keys.dataKey), 'Arn'] },
      },
    });
    expect(template.toJSON().Outputs.RegistryTableName.Value).toEqual({ Ref: logicalId(stack, stack.registry.table) });
  });

  it('is granted to nothing yet: no role or policy names it', () => {
    const tableId = logicalId(stack, stack.registry.table);
    const iam = Object.entries(template.toJSON().Resources as Record<string, { Type: string }>).filter(([, r]) =>
      ['AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].includes(r.Type),
    );
    expect(iam.length).toBeGreaterThan(0);
    for (const [id, resource] of iam) expect(text(resource), id).not.toContain(tableId);
    // The builds table is granted, so the check does see table references.
    expect(iam.some(([, r]) => text(r).includes(logicalId(stack, stack.store.buildsTable)))).toBe(true);
  });
});

describe('builder identity and network', () => {
  it('lets the builder role read staged files and write logs only, with no EC2 access', () => {
    const role = template.toJSON().Resources[logicalId(stack, stack.builder.role)];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' } },
    ]);
    expect(text(role.Properties.ManagedPolicyArns)).toContain('AmazonSSMManagedInstanceCore');
    const statements = statementsOfRole(template, logicalId(stack, stack.builder.role));
    expect([...allActions(statements)].filter((a) => a.startsWith('ec2:'))).toEqual([]);
    const s3 = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
    const byAction = (action: string) =>
      s3
        .filter((s) => actionsOf(s).includes(action))
        .flatMap(resourcesOf)
        .map(text);
    expect(byAction('s3:GetObject')).toHaveLength(1);
    expect(byAction('s3:GetObject')[0]).toMatch(/\/builds\/\*\/files\/\*"\]\]\}$/);
    expect(byAction('s3:PutObject')).toHaveLength(1);
    expect(byAction('s3:PutObject')[0]).toMatch(/\/builds\/\*\/logs\/\*"\]\]\}$/);
    expect(s3.flatMap(actionsOf).sort()).toEqual(['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject']);
    const kms = statements.find((s) => actionsOf(s).includes('kms:Decrypt'));
    expect(kms?.Resource).toEqual({ 'Fn::GetAtt': [logicalId(stack, stack.keys.dataKey), 'Arn'] });
    expect(text(kms?.Condition)).toContain('kms:ViaService');
  });

  it('wraps the builder role in an instance profile', () => {
    template.hasResourceProperties('AWS::IAM::InstanceProfile', {
      Roles: [{ Ref: logicalId(stack, stack.builder.role) }],
    });
  });

  it('gives the builder security group no ingress and tcp/80 + tcp/443 egress (stock apt mirrors are HTTP)', () => {
    const sg = template.toJSON().Resources[logicalId(stack, stack.network.securityGroup)].Properties;
    expect(sg.SecurityGroupIngress).toBeUndefined();
    expect(sg.SecurityGroupEgress).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, CidrIp: '0.0.0.0/0' }),
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: '0.0.0.0/0' }),
    ]);
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });

  it('creates a NAT-less VPC with public subnets, an S3 gateway endpoint and flow logs by default', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::Subnet', 2);
    template.hasResourceProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: true });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL' });
  });
});

describe('BuildPipeline functions', () => {
  it.each(FIXTURE_FUNCTIONS.map((spec) => [spec.id, spec] as const))(
    '%s: runtime, arch, tracing, env, logs',
    (id, spec) => {
      const fn = stack.pipeline.functions.get(id);
      if (!fn) throw new Error('missing');
      const props = template.toJSON().Resources[logicalId(stack, fn)].Properties;
      expect(props).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        Timeout: spec.timeoutSeconds,
        MemorySize: spec.memoryMb,
      });
      const env = props.Environment.Variables;
      expect(env).toMatchObject({
        KILN_FUNCTION_ID: id,
        POWERTOOLS_SERVICE_NAME: `kiln-${spec.dir.split('/').pop()}`,
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
      const expectedKeys = ['KILN_FUNCTION_ID', 'NODE_OPTIONS', 'POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_SERVICE_NAME'];
      const envNames: Record<string, string> = {
        templateBucket: 'KILN_TEMPLATE_BUCKET',
        artifactsBucket: 'KILN_ARTIFACTS_BUCKET',
        buildsTable: 'KILN_BUILDS_TABLE',
        builderInstanceProfile: 'KILN_BUILDER_INSTANCE_PROFILE',
        builderSecurityGroup: 'KILN_BUILDER_SECURITY_GROUP',
        subnetIds: 'KILN_SUBNET_IDS',
        provisionLogGroup: 'KILN_PROVISION_LOG_GROUP',
      };
      expect(Object.keys(env).sort()).toEqual([...expectedKeys, ...spec.env.map((key) => envNames[key])].sort());
      const logGroup = template.toJSON().Resources[props.LoggingConfig.LogGroup.Ref].Properties;
      expect(logGroup.KmsKeyId).toEqual({ 'Fn::GetAtt': [logicalId(stack, stack.keys.logsKey), 'Arn'] });
      expect(logGroup.RetentionInDays).toBe(30);
    },
  );

  it('points env values at the deployed resources', () => {
    const launch = stack.pipeline.functions.get('LaunchBuilder');
    if (!launch) throw new Error('missing');
    const env = template.toJSON().Resources[logicalId(stack, launch)].Properties.Environment.Variables;
    expect(env.KILN_BUILDER_INSTANCE_PROFILE).toEqual({
      'Fn::GetAtt': [logicalId(stack, stack.builder.instanceProfile), 'Arn'],
    });
    expect(env.KILN_BUILDER_SECURITY_GROUP).toEqual({
      'Fn::GetAtt': [logicalId(stack, stack.network.securityGroup), 'GroupId'],
    });
    expect(text(env.KILN_SUBNET_IDS)).toMatch(/Subnet1.*Subnet2/);
    expect(env.KILN_BUILDS_TABLE).toEqual({ Ref: logicalId(stack, stack.store.buildsTable) });
  });

  // The permission tests (PassRole, EC2 conditions, SendCommand, buckets per scope, state machine invoke) read the
  // real registry's synthesized policies: test/infra/real-permissions.test.ts.
});

describe('build state machine', () => {
  it('substitutes exactly the placeholders of the ASL file, with function ARNs and resource names', () => {
    const machine = stack.stateMachines.get('build');
    if (!machine) throw new Error('missing');
    const props = template.toJSON().Resources[logicalId(stack, machine.stateMachine)].Properties;
    const asl = loadStateMachine(join(FIXTURE_DIR, 'statemachines/build.asl.json')).text;
    expect(Object.keys(props.DefinitionSubstitutions).sort()).toEqual(placeholdersIn(asl));
    for (const spec of FIXTURE_FUNCTIONS) {
      const fn = stack.pipeline.functions.get(spec.id);
      if (!fn) throw new Error('missing');
      expect(props.DefinitionSubstitutions[`${spec.id}FunctionArn`]).toEqual({
        'Fn::GetAtt': [logicalId(stack, fn), 'Arn'],
      });
    }
    expect(props.DefinitionSubstitutions.ArtifactsBucketName).toEqual({
      Ref: logicalId(stack, stack.store.artifactsBucket),
    });
    // The definition is the composed file (the one reader, infra/asl-files.ts), so the harness and AWS run the same thing.
    expect(props.DefinitionString).toBe(asl);
    expect(props).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
    });
  });

  it('logs to a KMS-encrypted log group and alarms on failed and timed-out executions', () => {
    const machine = stack.stateMachines.get('build');
    if (!machine) throw new Error('missing');
    const logGroup = template.toJSON().Resources[logicalId(stack, machine.logGroup)].Properties;
    expect(logGroup.KmsKeyId).toEqual({ 'Fn::GetAtt': [logicalId(stack, stack.keys.logsKey), 'Arn'] });
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Namespace: 'AWS/States',
        Threshold: 1,
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: logicalId(stack, machine.stateMachine) } }],
      });
    }
  });
});

describe('registry triggers at synth', () => {
  const synthWith = (id: string, trigger: FunctionTrigger) => () =>
    createKilnApp({
      appProps: {
        context: { 'aws:cdk:bundling-stacks': [], 'kiln:stateMachinesDir': 'test/fixtures/infra/statemachines' },
      },
      functions: FIXTURE_FUNCTIONS.map((spec): FunctionSpec => (spec.id === id ? { ...spec, trigger } : spec)),
      functionsRoot: join(FIXTURE_DIR, 'functions'),
      nag: false,
    });

  it('refuses a task of a state machine that has no file', () => {
    expect(synthWith('Finalize', { kind: 'task', stateMachine: 'sweeper' })).toThrow(
      /KilnStack: Finalize is a task of state machine "sweeper", which has no \.asl\.json file/,
    );
  });

  it('refuses a definition that invokes a function whose trigger is not a task of that machine, naming the file', () => {
    expect(synthWith('Finalize', { kind: 'schedule', expression: 'rate(1 hour)' })).toThrow(
      /no substitution for \$\{FinalizeFunctionArn\} \(in build\.asl\.json\)/,
    );
  });

  it('refuses a function trigger whose caller does not invoke it', () => {
    expect(synthWith('Finalize', { kind: 'function', by: 'RunProvisioner' })).toThrow(
      /BuildPipeline: Finalize is triggered by RunProvisioner, whose invokes does not list it/,
    );
  });
});

describe('Triggers', () => {
  it('starts the build machine on template uploads under templates/, with a DLQ and retries', () => {
    const machine = stack.stateMachines.get('build');
    if (!machine) throw new Error('missing');
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: {
          bucket: { name: [{ Ref: logicalId(stack, stack.store.templateBucket) }] },
          object: {
            key: [
              { wildcard: 'templates/*.pkr.hcl' },
              { wildcard: 'templates/*.pkr.json' },
              { wildcard: 'templates/*.json' },
              { wildcard: 'templates/*.zip' },
              { wildcard: 'templates/*.tar.gz' },
              { wildcard: 'templates/*.tgz' },
            ],
          },
        },
      },
      Targets: [
        Match.objectLike({
          Arn: { Ref: logicalId(stack, machine.stateMachine) },
          RoleArn: { 'Fn::GetAtt': [logicalId(stack, stack.triggers.startRole), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(stack, stack.triggers.deadLetterQueue), 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 },
        }),
      ],
    });
  });

  it('lets the trigger role start only the build machine', () => {
    const machine = stack.stateMachines.get('build');
    if (!machine) throw new Error('missing');
    const statements = statementsOfRole(template, logicalId(stack, stack.triggers.startRole));
    // The events target repeats the grant CDK-side; the set of (action, resource) pairs is what matters.
    const pairs = new Set(statements.map((s) => text([s.Effect, s.Action, s.Resource, s.Condition ?? null])));
    // Run-time schedules (`kiln schedules add`) send the starts they cannot deliver to the dead-letter queue.
    expect([...pairs]).toEqual([
      text(['Allow', 'states:StartExecution', { Ref: logicalId(stack, machine.stateMachine) }, null]),
      text([
        'Allow',
        ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        { 'Fn::GetAtt': [logicalId(stack, stack.triggers.deadLetterQueue), 'Arn'] },
        null,
      ]),
    ]);
  });

  it('encrypts the dead-letter queue and alarms when it holds messages', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
    });
  });
});

describe('tags', () => {
  it('tags resources with their kiln:component', () => {
    const tagOf = (construct: Parameters<typeof logicalId>[1]) =>
      (
        template.toJSON().Resources[logicalId(stack, construct)].Properties.Tags as Array<{
          Key: string;
          Value: string;
        }>
      ).find((tag) => tag.Key === 'kiln:component')?.Value;
    expect(tagOf(stack.store.templateBucket)).toBe('template-store');
    expect(tagOf(stack.builder.role)).toBe('builder');
    expect(tagOf(stack.network.securityGroup)).toBe('builder-network');
    expect(tagOf(stack.triggers.deadLetterQueue)).toBe('triggers');
    const fn = stack.pipeline.functions.get('PrepareBuild');
    if (!fn) throw new Error('missing');
    expect(tagOf(fn)).toBe('build-pipeline');
  });
});
