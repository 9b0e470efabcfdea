/**
 * What the stack creates for scheduled rebuilds, made in the emulator for the schedule tests: the builds table
 * with its byTemplate index, the tagged schedule group, and `kiln` run against that Scheduler.
 */
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateScheduleGroupCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { BUILD_RECORD_KEY, BUILD_TEMPLATE_INDEX } from '../../aws/build-records.ts';
import { SCHEDULE_GROUP, SCHEDULE_GROUP_TAGS } from '../../aws/schedules.ts';
import { bufferedIO } from '../../cli/io.ts';
import { commandHandlers, runCli } from '../../cli/program.ts';

export async function createBuildsTable(dynamo: DynamoDBClient, table: string): Promise<void> {
  const { name, partitionKey, sortKey } = BUILD_TEMPLATE_INDEX;
  await dynamo.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [BUILD_RECORD_KEY, partitionKey, sortKey].map((n) => ({
        AttributeName: n,
        AttributeType: 'S',
      })),
      KeySchema: [{ AttributeName: BUILD_RECORD_KEY, KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: name,
          KeySchema: [
            { AttributeName: partitionKey, KeyType: 'HASH' },
            { AttributeName: sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
}

/** The stack's schedule group, tagged with what `kiln schedules add` reads (aws/schedules.ts). */
export async function createScheduleGroup(
  scheduler: SchedulerClient,
  tags: { machine: string; role: string; deadLetterQueue: string; templateBucket: string },
): Promise<void> {
  await scheduler.send(
    new CreateScheduleGroupCommand({
      Name: SCHEDULE_GROUP,
      Tags: [
        { Key: SCHEDULE_GROUP_TAGS.stateMachineArn, Value: tags.machine },
        { Key: SCHEDULE_GROUP_TAGS.startRoleArn, Value: tags.role },
        { Key: SCHEDULE_GROUP_TAGS.deadLetterQueueArn, Value: tags.deadLetterQueue },
        { Key: SCHEDULE_GROUP_TAGS.templateBucket, Value: tags.templateBucket },
      ],
    }),
  );
}

/** `kiln <argv>` with this Scheduler client. */
export async function kilnWithScheduler(scheduler: SchedulerClient, region: string, argv: string[]) {
  const io = bufferedIO({ env: { AWS_REGION: region } });
  const code = await runCli(
    argv,
    io,
    commandHandlers(io, undefined, () => scheduler),
  );
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}
