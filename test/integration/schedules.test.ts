/**
 * Scheduled rebuilds on the emulator (moto's Scheduler, S3, EC2, DynamoDB, EventBridge, SQS). moto's Scheduler
 * stores schedules but never fires them, so the scheduler is simulated by firing the schedule's exact target
 * input: `kiln schedules add` creates the schedule, its Target.Input is read back from moto and handed to
 * PrepareBuild as the ASL would (`{ input, executionName }`). Covered: only-if-changed with and without a changed
 * source AMI (source_ami_filter, most_recent), auto-disable after 3 failed builds in a row with the
 * `Kiln Schedule Disabled` event delivered through a rule, and pause/resume keeping the definition.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateImageCommand, DescribeImagesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BUILD_RECORD_KEY, buildOutcomeUpdate, parseBuildRecord } from '../../aws/build-records.ts';
import { SCHEDULE_GROUP } from '../../aws/schedules.ts';
import type { FinalizeDeps } from '../../functions/common/finalize/finalize.ts';
import { recordPrepareFailure } from '../../functions/common/finalize/prepare-failure.ts';
import { checkScheduleHealth } from '../../functions/common/finalize/schedule-failures.ts';
import { coreEngine } from '../../functions/common/prepare-build/engine.ts';
import { normalizeInput, prepareInputSchema } from '../../functions/common/prepare-build/input.ts';
import { buildIdFor, type PrepareDeps, prepareBuild } from '../../functions/common/prepare-build/prepare-build.ts';
import { LOCAL_ACCOUNT, localClientConfig } from '../../harness/clients.ts';
import { type MotoServer, startMoto } from '../../harness/moto.ts';
import { createBuildsTable, createScheduleGroup, kilnWithScheduler } from './schedules-fixture.ts';

const REGION = 'us-east-1';
const TEMPLATES = 'kiln-templates';
const ARTIFACTS = 'kiln-artifacts';
const BUILDS = 'kiln-builds';
const KEY = 'templates/base/base.pkr.hcl';
const MACHINE = `arn:aws:states:${REGION}:${LOCAL_ACCOUNT}:stateMachine:KilnBuild`;
const ROLE = `arn:aws:iam::${LOCAL_ACCOUNT}:role/KilnStartBuildRole`;
const DLQ = `arn:aws:sqs:${REGION}:${LOCAL_ACCOUNT}:KilnStartFailures`;

const FIXTURES = new URL('../fixtures/functions/prepare/web/', import.meta.url);
// The web fixture with its source AMI chosen by a filter: the newest image this account named kiln-base-*.
const TEMPLATE = readFileSync(new URL('ubuntu.pkr.hcl', FIXTURES), 'utf8').replace(
  '  source_ami    = "ami-0123456789abcdef0"\n',
  '  source_ami_filter {\n    filters     = { name = "kiln-base-*" }\n    owners      = ["self"]\n    most_recent = true\n  }\n',
);

let moto: MotoServer;
let s3: S3Client;
let ec2: EC2Client;
let dynamo: DynamoDBClient;
let scheduler: SchedulerClient;
let events: EventBridgeClient;
let sqs: SQSClient;

beforeAll(async () => {
  moto = await startMoto();
  const config = localClientConfig(moto.endpoint, REGION);
  s3 = new S3Client(config);
  ec2 = new EC2Client(config);
  dynamo = new DynamoDBClient(config);
  scheduler = new SchedulerClient(config);
  events = new EventBridgeClient(config);
  sqs = new SQSClient(config);
}, 60_000);
afterAll(async () => {
  await moto?.stop();
});

/** What the stack creates: the buckets, the builds table with its byTemplate index, the tagged schedule group. */
beforeEach(async () => {
  await moto.reset();
  for (const Bucket of [TEMPLATES, ARTIFACTS]) await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(new PutObjectCommand({ Bucket: TEMPLATES, Key: KEY, Body: TEMPLATE }));
  await s3.send(
    new PutObjectCommand({
      Bucket: TEMPLATES,
      Key: 'templates/base/scripts/setup.sh',
      Body: readFileSync(new URL('scripts/setup.sh', FIXTURES)),
    }),
  );
  await createBuildsTable(dynamo, BUILDS);
  await createScheduleGroup(scheduler, {
    machine: MACHINE,
    role: ROLE,
    deadLetterQueue: DLQ,
    templateBucket: TEMPLATES,
  });
});

const kiln = (argv: string[]) => kilnWithScheduler(scheduler, REGION, argv);

/** A new AMI named kiln-base-<n> owned by this account (moto stamps CreationDate to the second). */
async function publishBaseImage(n: number): Promise<string> {
  const images = await ec2.send(new DescribeImagesCommand({}));
  const any = images.Images?.find((i) => i.RootDeviceType === 'ebs')?.ImageId as string;
  const run = await ec2.send(
    new RunInstancesCommand({ ImageId: any, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }),
  );
  const out = await ec2.send(
    new CreateImageCommand({ InstanceId: run.Instances?.[0]?.InstanceId as string, Name: `kiln-base-${n}` }),
  );
  return out.ImageId as string;
}

const deps = (): PrepareDeps => ({
  s3,
  dynamo,
  artifactsBucket: ARTIFACTS,
  buildsTable: BUILDS,
  resolvers: {
    ec2For: () => ec2,
    ssm: new SSMClient(localClientConfig(moto.endpoint, REGION)),
    secrets: new SecretsManagerClient(localClientConfig(moto.endpoint, REGION)),
    homeRegion: REGION,
  },
  engine: coreEngine,
  now: () => new Date(),
});

/** Fires the schedule: its Target.Input as stored in moto, wrapped as the ASL wraps the execution input. */
async function fire(schedule: string, executionName: string) {
  const stored = await scheduler.send(new GetScheduleCommand({ GroupName: SCHEDULE_GROUP, Name: schedule }));
  const event = prepareInputSchema.parse({ input: JSON.parse(stored.Target?.Input ?? ''), executionName });
  return prepareBuild(deps(), normalizeInput(event.input), executionName);
}

/** What Finalize records when the execution ends. */
async function finish(executionName: string, status: 'SUCCEEDED' | 'FAILED') {
  const buildId = buildIdFor(executionName);
  await dynamo.send(
    new UpdateItemCommand({
      TableName: BUILDS,
      ...buildOutcomeUpdate(buildId, {
        status,
        finishedAt: new Date().toISOString(),
        manifestKey: `manifests/${buildId}/manifest.json`,
        outcomes: [{ name: 'amazon-ebs.ubuntu', status }],
      }),
    }),
  );
  return buildId;
}

describe('a schedule made with kiln schedules add, fired with its exact target input', () => {
  it('stores an input PrepareBuild parses as a scheduled, only-if-changed build of the template', async () => {
    const add = await kiln([
      'schedules',
      'add',
      KEY,
      '--cron',
      '0 3 ? * MON *',
      '--timezone',
      'Europe/Paris',
      '--only-if-changed',
    ]);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const stored = await scheduler.send(new GetScheduleCommand({ GroupName: SCHEDULE_GROUP, Name: 'base-base' }));
    expect(stored).toMatchObject({
      State: 'ENABLED',
      ScheduleExpression: 'cron(0 3 ? * MON *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      Target: { Arn: MACHINE, RoleArn: ROLE, DeadLetterConfig: { Arn: DLQ } },
    });
    const event = prepareInputSchema.parse({ input: JSON.parse(stored.Target?.Input ?? ''), executionName: 'e' });
    expect(normalizeInput(event.input)).toEqual({
      template: { bucket: TEMPLATES, key: KEY },
      vars: [],
      varFiles: [],
      only: [],
      except: [],
      trigger: 'schedule',
      schedule: 'base-base',
      onlyIfChanged: true,
    });
    const list = await kiln(['schedules', 'list', '--json']);
    expect(JSON.parse(list.stdout)).toMatchObject([
      { name: 'base-base', state: 'ENABLED', onlyIfChanged: true, template: { bucket: TEMPLATES, key: KEY } },
    ]);
  });

  it('rebuilds only when the source AMI moved since the last successful build', async () => {
    const first = await publishBaseImage(1);
    await kiln(['schedules', 'add', KEY, '--cron', 'rate(1 day)', '--only-if-changed', '--name', 'base-daily']);

    const run1 = await fire('base-daily', 'sched-1');
    expect(run1.skipped).toBeNull();
    expect(run1.builds).toHaveLength(1);
    const built = await finish('sched-1', 'SUCCEEDED');

    const run2 = await fire('base-daily', 'sched-2');
    expect(run2.builds).toEqual([]);
    expect(run2.skipped).toMatch(
      new RegExp(
        `^skipped: unchanged since build ${built}: same template .*amazon-ebs.ubuntu from ${first} \\(us-east-1\\)$`,
      ),
    );

    await sleep(1_100); // a later CreationDate, so most_recent picks the new image
    const second = await publishBaseImage(2);
    const run3 = await fire('base-daily', 'sched-3');
    expect(run3.skipped).toBeNull();
    expect(run3.builds).toHaveLength(1);
    const { Item } = await dynamo.send(
      new GetItemCommand({
        TableName: BUILDS,
        Key: { [BUILD_RECORD_KEY]: { S: buildIdFor('sched-3') } },
      }),
    );
    expect(Item?.changeCheck?.M?.reason?.S).toBe(
      `amazon-ebs.ubuntu: source AMI moved from ${first} (us-east-1) to ${second} (us-east-1)`,
    );
    expect(Item?.status?.S).toBe('RUNNING');
  });

  it('disables itself after 3 failed builds in a row and says so on the default bus; resume turns it back on', async () => {
    await publishBaseImage(1);
    await kiln(['schedules', 'add', KEY, '--cron', 'rate(1 day)', '--name', 'base-failing']);
    const queue = await sqs.send(new CreateQueueCommand({ QueueName: 'schedule-events' }));
    const queueArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['QueueArn'] }))
    ).Attributes?.QueueArn;
    await events.send(
      new PutRuleCommand({
        Name: 'kiln-schedule-disabled',
        EventPattern: JSON.stringify({ source: ['kiln'], 'detail-type': ['Kiln Schedule Disabled'] }),
      }),
    );
    await events.send(new PutTargetsCommand({ Rule: 'kiln-schedule-disabled', Targets: [{ Id: 'q', Arn: queueArn }] }));

    const health = { dynamo, buildsTable: BUILDS, scheduler, events, group: SCHEDULE_GROUP, limit: 3 };
    const verdicts = [];
    for (const n of [1, 2, 3]) {
      const run = await fire('base-failing', `fail-${n}`);
      expect(run.builds).toHaveLength(1);
      const buildId = await finish(`fail-${n}`, 'FAILED');
      verdicts.push(
        await checkScheduleHealth(health, {
          buildId,
          schedule: 'base-failing',
          template: { bucket: TEMPLATES, key: KEY },
          status: 'FAILED',
          at: new Date().toISOString(),
        }),
      );
    }
    expect(verdicts.map((v) => [v.consecutiveFailures, v.disabled])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    const disabled = await scheduler.send(new GetScheduleCommand({ GroupName: SCHEDULE_GROUP, Name: 'base-failing' }));
    expect(disabled.State).toBe('DISABLED');

    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.QueueUrl, WaitTimeSeconds: 1 }));
    const event = JSON.parse(received.Messages?.[0]?.Body ?? '{}');
    expect(event['detail-type']).toBe('Kiln Schedule Disabled');
    expect(event.detail).toMatchObject({
      schedule: 'base-failing',
      failedBuilds: [buildIdFor('fail-3'), buildIdFor('fail-2'), buildIdFor('fail-1')],
      resume: 'kiln schedules resume base-failing',
    });

    const resume = await kiln(['schedules', 'resume', 'base-failing']);
    expect(resume.code).toBe(0);
    const resumed = await scheduler.send(new GetScheduleCommand({ GroupName: SCHEDULE_GROUP, Name: 'base-failing' }));
    expect(resumed.State).toBe('ENABLED');
    // UpdateSchedule replaced the definition: the target input must have survived both updates.
    expect(resumed.Target?.Input).toBe(disabled.Target?.Input);
    expect(resumed.ScheduleExpression).toBe('rate(1 day)');
  });

  it('counts builds that fail in PrepareBuild (a template turned invalid): the schedule disables itself', async () => {
    await s3.send(new PutObjectCommand({ Bucket: TEMPLATES, Key: KEY, Body: 'source "amazon-ebs" "x" {' }));
    await kiln(['schedules', 'add', KEY, '--cron', 'rate(1 day)', '--name', 'base-broken']);
    const stored = await scheduler.send(new GetScheduleCommand({ GroupName: SCHEDULE_GROUP, Name: 'base-broken' }));
    const start = JSON.parse(stored.Target?.Input ?? '');
    const finalizeDeps = {
      s3,
      dynamo,
      artifactsBucket: ARTIFACTS,
      buildsTable: BUILDS,
      now: () => new Date(),
      registry: {
        dynamo,
        table: 'unused',
        ssm: () => {
          throw new Error('no SSM here');
        },
        homeRegion: REGION,
      },
      schedules: { clients: async () => ({ scheduler, events }), group: SCHEDULE_GROUP, limit: 3 },
    } as unknown as FinalizeDeps; // only the fields RecordPrepareFailure reads
    const results = [];
    for (const n of [1, 2, 3]) {
      // What the state machine does: PrepareBuild fails for good, its Catch hands the error to RecordPrepareFailure.
      const error = await fire('base-broken', `broken-${n}`).then(
        () => undefined,
        (err: unknown) => err as Error,
      );
      expect(error?.name).toBe('Kiln.TemplateInvalid');
      results.push(
        await recordPrepareFailure(finalizeDeps, {
          prepareFailed: { start, error: error?.name ?? '', cause: error?.message ?? '' },
          executionName: `broken-${n}`,
        }),
      );
    }
    expect(
      results.map((r) => [r.recorded, r.schedule && 'disabled' in r.schedule ? r.schedule.disabled : r.schedule]),
    ).toEqual([
      [true, false],
      [true, false],
      [true, true],
    ]);
    expect(
      (await scheduler.send(new GetScheduleCommand({ GroupName: SCHEDULE_GROUP, Name: 'base-broken' }))).State,
    ).toBe('DISABLED');
    const { Item } = await dynamo.send(
      new GetItemCommand({ TableName: BUILDS, Key: { [BUILD_RECORD_KEY]: { S: buildIdFor('broken-3') } } }),
    );
    const record = parseBuildRecord(Item ?? {});
    expect(record).toMatchObject({ status: 'FAILED', trigger: 'schedule', schedule: 'base-broken', builds: [] });
    expect(record.prepareFailure?.error).toBe('Kiln.TemplateInvalid');
    expect(record.prepareFailure?.cause).toMatch(/Unclosed configuration block\s+on base\.pkr\.hcl line 1, column \d+/);
  });

  it('pauses and deletes through the CLI', async () => {
    await kiln(['schedules', 'add', KEY, '--cron', 'rate(2 days)', '--name', 'base-slow']);
    expect((await kiln(['schedules', 'pause', 'base-slow'])).code).toBe(0);
    expect((await scheduler.send(new GetScheduleCommand({ GroupName: SCHEDULE_GROUP, Name: 'base-slow' }))).State).toBe(
      'DISABLED',
    );
    const deleted = await kiln(['schedules', 'delete', 'base-slow']);
    expect(deleted.stdout).toBe('Deleted schedule base-slow from group kiln.\n');
    const again = await kiln(['schedules', 'delete', 'base-slow']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no schedule "base-slow" in group kiln/);
  });
});
