import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, ListTargetsByRuleCommand } from '@aws-sdk/client-eventbridge';
import { GetBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD_TEMPLATE_INDEX } from '../../aws/build-records.ts';
import { listArtifacts, promoteChannel, putArtifact } from '../../aws/image-registry-store.ts';
import { localClientConfig } from '../../harness/clients.ts';
import { deployKiln, type KilnDeployment } from '../../harness/deploy.ts';
import { type EventPump, mirrorStateMachineRules, startEventPump } from '../../harness/event-pump.ts';
import { type LocalAws, startLocalAws } from '../../harness/local-aws.ts';
import { synthKiln } from '../../harness/synth.ts';
import { FIXTURE_FUNCTIONS } from '../fixtures/infra/registry.ts';
import { amiArtifact } from '../unit/image-registry/fixtures.ts';

// The infra tests' fixture registry and ASL: this suite checks the deploy path, not the pipeline's progress.
const FIXTURE = {
  registry: 'test/fixtures/infra/registry.ts#FIXTURE_FUNCTIONS',
  functionsRoot: 'test/fixtures/infra/functions',
  context: { 'kiln:stateMachinesDir': 'test/fixtures/infra/statemachines' },
};

describe('deployKiln: the synthesized stack created in moto', () => {
  let aws: LocalAws;
  let deployment: KilnDeployment;
  let pump: EventPump;
  const client = <T>(make: new (config: ReturnType<typeof localClientConfig>) => T): T =>
    new make(localClientConfig(aws.endpoint));

  beforeAll(async () => {
    const assembly = await synthKiln(FIXTURE);
    aws = await startLocalAws({
      functions: FIXTURE_FUNCTIONS,
      functionCode: {
        kind: 'fixture-sources',
        functionsRoot: new URL('../fixtures/infra/functions', import.meta.url).pathname,
      },
    });
    deployment = await deployKiln({ endpoint: aws.endpoint, assembly });
    pump = startEventPump(aws.endpoint, await mirrorStateMachineRules(aws.endpoint));
  }, 180_000);
  afterAll(async () => {
    await pump?.stop();
    await aws?.stop();
  });

  it('creates the stack and returns its outputs', () => {
    expect(deployment.templateBucket).toMatch(/templates/);
    expect(deployment.artifactsBucket).toMatch(/artifacts/);
    expect(deployment.stateMachineArn).toMatch(/^arn:aws:states:us-east-1:123456789012:stateMachine:/);
    expect(deployment.resources.filter((r) => r.type === 'AWS::Lambda::Function')).toHaveLength(
      FIXTURE_FUNCTIONS.length,
    );
    expect(deployment.placeholderAssets).toHaveLength(FIXTURE_FUNCTIONS.length);
  });

  it('deploys the registry table keyed as the registry records read and write it', async () => {
    const table = deployment.outputs.RegistryTableName as string;
    expect(table).toBeTruthy();
    const ssm = client(SSMClient);
    const ctx = { dynamo: client(DynamoDBClient), table, ssm: () => ssm, homeRegion: deployment.region };
    const artifact = await putArtifact(ctx, amiArtifact({ images: [[deployment.region, 'ami-0000d001']] }));
    expect((await listArtifacts(ctx, artifact.template)).map((a) => a.artifactId)).toEqual([artifact.artifactId]);
    const update = await promoteChannel(
      ctx,
      { template: artifact.template, build: artifact.build, channel: 'prod' },
      artifact.artifactId,
    );
    expect(update.parameters.map((p) => p.value)).toEqual(['ami-0000d001']);
  });

  it('deploys the builds table with the byTemplate index (only-if-changed, auto-disable), and reports the schedule group dropped', async () => {
    const table = deployment.outputs.BuildsTableName as string;
    const { Table } = await client(DynamoDBClient).send(new DescribeTableCommand({ TableName: table }));
    expect(Table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.KeySchema?.map((k) => k.AttributeName)])).toEqual([
      [BUILD_TEMPLATE_INDEX.name, [BUILD_TEMPLATE_INDEX.partitionKey, BUILD_TEMPLATE_INDEX.sortKey]],
    ]);
    expect(Object.values(deployment.transform.dropped)).toContain('AWS::Scheduler::ScheduleGroup');
  });

  it('puts the deployed functions into the state machine definition, no placeholder left', async () => {
    const { definition } = await client(SFNClient).send(
      new DescribeStateMachineCommand({ stateMachineArn: deployment.stateMachineArn }),
    );
    expect(definition).not.toContain('${');
    const functionNames = deployment.resources
      .filter((r) => r.type === 'AWS::Lambda::Function')
      .map((r) => r.physicalId);
    for (const name of functionNames) expect(definition).toContain(`:function:${name}`);
    expect(definition).toContain(deployment.artifactsBucket);
  });

  it('turns on what moto ignores: bucket versioning', async () => {
    const versioning = await client(S3Client).send(
      new GetBucketVersioningCommand({ Bucket: deployment.templateBucket }),
    );
    expect(versioning.Status).toBe('Enabled');
    expect(deployment.reconciled).toContain(
      `${deployment.resources.find((r) => r.physicalId === deployment.templateBucket)?.logicalId}: S3 → EventBridge notifications`,
    );
  });

  it('keeps the stack rule and its state machine target as synthesized', async () => {
    const [mirror] = pump.mirrors;
    expect(pump.mirrors).toHaveLength(1);
    const targets = await client(EventBridgeClient).send(new ListTargetsByRuleCommand({ Rule: mirror?.ruleName }));
    expect(targets.Targets?.map((t) => t.Arn)).toEqual([deployment.stateMachineArn]);
  });

  it('starts a build from a template upload, with the S3 event as input, and ignores other keys', async () => {
    const s3 = client(S3Client);
    await s3.send(new PutObjectCommand({ Bucket: deployment.templateBucket, Key: 'notes/readme.txt', Body: 'x' }));
    await s3.send(
      new PutObjectCommand({ Bucket: deployment.templateBucket, Key: 'templates/web.pkr.hcl', Body: 'source {}' }),
    );
    while (pump.starts.length === 0) await new Promise((r) => setTimeout(r, 100));
    // moto routes S3 events during PutObject, so both events were matched before the pump saw any: only the
    // template reached the mirror queue, and the queue is now empty.
    const queue = await client(SQSClient).send(
      new GetQueueAttributesCommand({ QueueUrl: pump.mirrors[0]?.queueUrl, AttributeNames: ['All'] }),
    );
    expect(queue.Attributes?.ApproximateNumberOfMessages).toBe('0');
    expect(pump.starts).toHaveLength(1);
    const sfn = client(SFNClient);
    const executions = (await sfn.send(new ListExecutionsCommand({ stateMachineArn: deployment.stateMachineArn })))
      .executions;
    expect(executions?.map((e) => e.executionArn)).toEqual([pump.starts[0]?.executionArn]);
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn: pump.starts[0]?.executionArn }));
    const input = JSON.parse(execution.input ?? '{}') as {
      source: string;
      'detail-type': string;
      detail: Record<string, { name?: string; key?: string }>;
    };
    expect(input.source).toBe('aws.s3');
    expect(input['detail-type']).toBe('Object Created');
    expect(input.detail.bucket?.name).toBe(deployment.templateBucket);
    expect(input.detail.object?.key).toBe('templates/web.pkr.hcl');
  });
});
