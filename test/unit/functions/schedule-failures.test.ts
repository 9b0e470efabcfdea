/**
 * Auto-disable in Finalize (mocked AWS): the schedule's failed builds in a row are read from the builds table's
 * byTemplate index, the limit disables it with the whole definition sent back, and `Kiln Schedule Disabled` goes
 * to the default bus; Finalize's result says so.
 */
import { type AttributeValue, DynamoDBClient, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  GetScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { type BuildStatus, buildStartItem } from '../../../aws/build-records.ts';
import { scheduledBuildInput } from '../../../aws/trigger-contract.ts';
import { finalize } from '../../../functions/common/finalize/finalize.ts';
import { checkScheduleHealth } from '../../../functions/common/finalize/schedule-failures.ts';
import { mocks, PLAN_KEY } from './fakes.ts';

const ddb = mockClient(DynamoDBClient);
const scheduler = mockClient(SchedulerClient);
const events = mockClient(EventBridgeClient);
const TEMPLATE = { bucket: 'tpl', key: 'templates/web.pkr.hcl' };

function record(buildId: string, status: BuildStatus, schedule = 'web-nightly'): Record<string, AttributeValue> {
  return {
    ...buildStartItem({
      buildId,
      executionName: `exec-${buildId}`,
      template: TEMPLATE,
      trigger: 'schedule',
      createdAt: `2027-01-0${buildId.slice(-1)}T03:00:00.000Z`,
      builds: [{ index: 0, name: 'amazon-ebs.base', driver: 'ec2-ami' }],
      schedule,
    }),
    status: { S: status },
  };
}

const SCHEDULE = {
  Name: 'web-nightly',
  GroupName: 'kiln',
  State: 'ENABLED' as const,
  ScheduleExpression: 'cron(0 3 * * ? *)',
  ScheduleExpressionTimezone: 'UTC',
  Description: 'Kiln rebuild of s3://tpl/templates/web.pkr.hcl',
  FlexibleTimeWindow: { Mode: 'OFF' as const },
  Target: {
    Arn: 'arn:aws:states:us-east-1:1:stateMachine:Build',
    RoleArn: 'arn:aws:iam::1:role/Start',
    Input: JSON.stringify(scheduledBuildInput({ schedule: 'web-nightly', ...TEMPLATE })),
  },
};

const deps = () => ({
  dynamo: new DynamoDBClient({ region: 'us-east-1' }),
  buildsTable: 'kiln-builds',
  scheduler: new SchedulerClient({ region: 'us-east-1' }),
  events: new EventBridgeClient({ region: 'us-east-1' }),
  group: 'kiln',
  limit: 3,
});
const end = (buildId: string, status: BuildStatus = 'FAILED') => ({
  buildId,
  schedule: 'web-nightly',
  template: TEMPLATE,
  status,
  at: '2027-01-05T03:40:00.000Z',
});

beforeEach(() => {
  ddb.reset();
  scheduler.reset();
  events.reset();
  scheduler.on(GetScheduleCommand).resolves(SCHEDULE);
  scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn' });
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
});

describe('checkScheduleHealth', () => {
  it('disables the schedule on the third failure in a row and puts the event', async () => {
    // The index may still show this build RUNNING: Finalize's own outcome counts.
    ddb.on(QueryCommand).resolves({
      Items: [
        record('kb-5', 'RUNNING'),
        record('kb-4', 'SKIPPED'),
        record('kb-3', 'FAILED'),
        record('kb-2', 'PARTIAL'),
      ],
    });
    const health = await checkScheduleHealth(deps(), end('kb-5'));
    expect(health).toMatchObject({ schedule: 'web-nightly', consecutiveFailures: 3, limit: 3, disabled: true });
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      IndexName: 'byTemplate',
      KeyConditionExpression: '#t = :t',
      FilterExpression: '#sch = :sch',
      ExpressionAttributeValues: { ':t': { S: 'tpl/templates/web.pkr.hcl' }, ':sch': { S: 'web-nightly' } },
      ScanIndexForward: false,
    });
    expect(scheduler).toHaveReceivedCommandWith(UpdateScheduleCommand, {
      ...SCHEDULE,
      State: 'DISABLED',
    });
    const sent = events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(sent?.Source).toBe('kiln');
    expect(sent?.DetailType).toBe('Kiln Schedule Disabled');
    expect(JSON.parse(sent?.Detail ?? '')).toEqual({
      schedule: 'web-nightly',
      group: 'kiln',
      template: TEMPLATE,
      failedBuilds: ['kb-5', 'kb-3', 'kb-2'],
      consecutiveFailures: 3,
      limit: 3,
      disabledAt: '2027-01-05T03:40:00.000Z',
      resume: 'kiln schedules resume web-nightly',
    });
  });

  it('leaves it enabled below the limit, or when a success ends the run', async () => {
    ddb.on(QueryCommand).resolves({ Items: [record('kb-5', 'FAILED'), record('kb-4', 'FAILED')] });
    expect(await checkScheduleHealth(deps(), end('kb-5'))).toMatchObject({ consecutiveFailures: 2, disabled: false });
    ddb.on(QueryCommand).resolves({
      Items: [
        record('kb-5', 'FAILED'),
        record('kb-4', 'SUCCEEDED'),
        record('kb-3', 'FAILED'),
        record('kb-2', 'FAILED'),
      ],
    });
    expect(await checkScheduleHealth(deps(), end('kb-5'))).toMatchObject({ consecutiveFailures: 1, disabled: false });
    expect(scheduler).not.toHaveReceivedCommand(UpdateScheduleCommand);
    expect(events).not.toHaveReceivedCommand(PutEventsCommand);
  });

  it('reads nothing after a success and never disables one', async () => {
    expect(await checkScheduleHealth(deps(), end('kb-5', 'SUCCEEDED'))).toMatchObject({
      consecutiveFailures: 0,
      disabled: false,
    });
    expect(ddb).not.toHaveReceivedCommand(QueryCommand);
  });

  it('does not disable twice or announce it twice: an already disabled schedule is only noted', async () => {
    ddb
      .on(QueryCommand)
      .resolves({ Items: [record('kb-3', 'FAILED'), record('kb-2', 'FAILED'), record('kb-1', 'FAILED')] });
    scheduler.on(GetScheduleCommand).resolves({ ...SCHEDULE, State: 'DISABLED' });
    expect(await checkScheduleHealth(deps(), end('kb-3'))).toMatchObject({
      disabled: false,
      note: 'the schedule was already disabled',
    });
    expect(scheduler).not.toHaveReceivedCommand(UpdateScheduleCommand);
    expect(events).not.toHaveReceivedCommand(PutEventsCommand);
  });

  it('notes a schedule deleted since the build started, and an event PutEvents refused', async () => {
    ddb
      .on(QueryCommand)
      .resolves({ Items: [record('kb-3', 'FAILED'), record('kb-2', 'FAILED'), record('kb-1', 'FAILED')] });
    scheduler
      .on(GetScheduleCommand)
      .rejects(new ResourceNotFoundException({ message: 'gone', Message: 'gone', $metadata: {} }));
    expect((await checkScheduleHealth(deps(), end('kb-3'))).note).toMatch(/no schedule "web-nightly" in group kiln/);

    scheduler.on(GetScheduleCommand).resolves(SCHEDULE);
    events
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDenied', ErrorMessage: 'no' }] });
    expect(await checkScheduleHealth(deps(), end('kb-3'))).toMatchObject({
      disabled: true,
      note: 'the event was not accepted: AccessDenied no',
    });
  });
});

describe('finalize of a scheduled build', () => {
  it("reports the schedule's health in its result; a failure to check it never fails Finalize", async () => {
    const t = mocks();
    ddb.on(UpdateItemCommand).resolves({ Attributes: record('kb-test', 'FAILED') });
    ddb.on(QueryCommand).rejects(new Error('index missing'));
    const input = {
      buildId: 'kb-test',
      planKey: PLAN_KEY,
      executionName: 'exec-kb-test',
      results: [
        { name: 'amazon-ebs.base', status: 'FAILED' as const, error: 'Kiln.ProvisionerFailed', cause: 'exit 1' },
      ],
    };
    const base = {
      ...t.deps,
      dynamo: new DynamoDBClient({ region: 'us-east-1' }),
      buildsTable: 'kiln-builds',
      registry: {
        dynamo: new DynamoDBClient({ region: 'us-east-1' }),
        table: 'r',
        ssm: () => t.ssmClient,
        homeRegion: 'us-east-1',
      },
    };
    const { dynamo: _d, buildsTable: _b, scheduler: s, events: e, ...limits } = deps();
    const schedules = { ...limits, clients: async () => ({ scheduler: s, events: e }) };
    const result = await finalize({ ...base, schedules }, input);
    expect(result.status).toBe('FAILED');
    expect(result.schedule).toEqual({ schedule: 'web-nightly', error: 'Error: index missing' });
    expect(ddb).toHaveReceivedCommandWith(UpdateItemCommand, { ReturnValues: 'ALL_NEW' });

    ddb
      .on(QueryCommand)
      .resolves({ Items: [record('kb-test', 'FAILED'), record('kb-2', 'FAILED'), record('kb-1', 'FAILED')] });
    const disabling = await finalize({ ...base, schedules }, input);
    expect(disabling.schedule).toMatchObject({ schedule: 'web-nightly', disabled: true, consecutiveFailures: 3 });

    // Without the stack's group (older stacks, tests) nothing about schedules is read.
    ddb.resetHistory();
    const without = await finalize(base, input);
    expect(without.schedule).toBeUndefined();
    expect(ddb).not.toHaveReceivedCommand(QueryCommand);
  });
});
