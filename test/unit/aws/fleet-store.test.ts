/**
 * The fleet store's paths moto cannot force in order (test/integration/fleet-store.test.ts runs the rest for
 * real): a transaction that lost a race is tried again, a cancellation without reasons is judged by the counter,
 * a table whose counter disagrees with its slots is reported, and AcquireSlot fails a build that waited too long
 * with Kiln.FleetWaitTimedOut.
 */
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FLEET_ENV } from '../../../aws/fleet-contract.ts';
import { acquireSlot, type FleetStore, releaseSlot } from '../../../aws/fleet-store.ts';
import { DEFAULT_FLEET_POLICY } from '../../../core/fleet/slots.ts';
import { KILN_ENV } from '../../../functions/registry.ts';

const ddb = mockClient(DynamoDBClient);
const store: FleetStore = { dynamo: new DynamoDBClient({ region: 'us-east-1' }), table: 'fleet' };
const holder = { executionArn: 'arn:aws:states:us-east-1:1:execution:build:x', build: 'amazon-ebs.a' };
const policy = { ...DEFAULT_FLEET_POLICY, maxConcurrentBuilds: 2, waitSeconds: 10 };
const deps = { store, policy, executionStatus: async () => 'RUNNING', random: () => 0.5 };

const cancelled = (...codes: (string | undefined)[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => (Code === undefined ? {} : { Code })),
  });
const counter = (held: number) => ({ Item: { pk: { S: 'FLEET' }, sk: { S: 'COUNTER' }, held: { N: String(held) } } });

beforeEach(() => {
  ddb.reset();
  ddb.on(GetItemCommand).resolves({});
  ddb.on(QueryCommand).resolves({ Items: [] });
  ddb.on(UpdateItemCommand).resolves({ Attributes: { since: { S: '2026-12-02T10:00:00.000Z' } } });
  ddb.on(DeleteItemCommand).resolves({});
});

describe('fleet store (mocked DynamoDB)', () => {
  it('tries a transaction that lost a race (TransactionConflict) again and takes the slot', async () => {
    ddb
      .on(TransactWriteItemsCommand)
      .rejectsOnce(cancelled('TransactionConflict', 'None', 'None'))
      .resolves({});
    ddb.on(GetItemCommand, { Key: { pk: { S: 'FLEET' }, sk: { S: 'COUNTER' } } }).resolves(counter(1));
    const result = await acquireSlot(deps, holder);
    expect(result).toMatchObject({ acquired: true, held: 1, cap: 2 });
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(2);
  });

  it('gives up after 5 lost races with Kiln.Transient (the state machine retries the task)', async () => {
    ddb.on(TransactWriteItemsCommand).rejects(cancelled('TransactionConflict', 'None', 'None'));
    await expect(acquireSlot(deps, holder)).rejects.toMatchObject({
      name: 'Kiln.Transient',
      message: expect.stringContaining('contended 5 times'),
    });
  });

  it('judges a cancellation without reasons by the counter: full means wait, with the jittered time', async () => {
    ddb.on(TransactWriteItemsCommand).rejects(cancelled());
    ddb.on(GetItemCommand, { Key: { pk: { S: 'FLEET' }, sk: { S: 'COUNTER' } } }).resolves(counter(2));
    const result = await acquireSlot(deps, holder);
    expect(result).toMatchObject({ acquired: false, waitSeconds: 10, held: 2, since: '2026-12-02T10:00:00.000Z' });
    // Recorded as waiting, with the wait it was given (`kiln status` reads it).
    const waiter = ddb.commandCalls(UpdateItemCommand).at(-1)?.args[0].input;
    expect(waiter?.Key?.sk?.S).toBe(`WAIT#${holder.executionArn}#${holder.build}`);
    expect(waiter?.ExpressionAttributeValues?.[':wait']).toEqual({ N: '10' });
  });

  it('answers acquired for a holder whose slot exists (a retried task), without a second slot', async () => {
    ddb.on(TransactWriteItemsCommand).rejects(cancelled('None', 'ConditionalCheckFailed', 'None'));
    ddb
      .on(GetItemCommand, { Key: { pk: { S: 'FLEET' }, sk: { S: `SLOT#${holder.executionArn}#${holder.build}` } } })
      .resolves({ Item: { acquiredAt: { S: '2026-12-02T09:00:00.000Z' }, build: { S: holder.build } } });
    ddb.on(GetItemCommand, { Key: { pk: { S: 'FLEET' }, sk: { S: 'COUNTER' } } }).resolves(counter(2));
    expect(await acquireSlot(deps, holder)).toMatchObject({ acquired: true, since: '2026-12-02T09:00:00.000Z' });
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(1);
  });

  it('releases idempotently, and reports a slot the counter does not count instead of looping', async () => {
    ddb.on(TransactWriteItemsCommand).rejectsOnce(cancelled('ConditionalCheckFailed', 'None'));
    expect(await releaseSlot(store, holder)).toBe(false);
    expect(ddb.commandCalls(DeleteItemCommand).map((c) => c.args[0].input.Key?.sk?.S)).toEqual([
      `WAIT#${holder.executionArn}#${holder.build}`,
    ]);
    ddb.on(TransactWriteItemsCommand).rejects(cancelled('None', 'ConditionalCheckFailed'));
    await expect(releaseSlot(store, holder)).rejects.toThrow(/while its counter is 0: repair the table/);
  });
});

describe('AcquireSlot handler', () => {
  beforeEach(() => {
    vi.resetModules();
    vi.stubEnv(KILN_ENV.fleetTable, 'fleet');
    vi.stubEnv(FLEET_ENV.maxWaitSeconds, '3600');
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  });
  afterEach(() => vi.unstubAllEnvs());
  const context = { functionName: 'f', awsRequestId: 'r', getRemainingTimeInMillis: () => 30_000 } as never;
  const load = async () =>
    (await import('../../../functions/fleet/acquire-slot/handler.ts')) as {
      handler: (e: unknown, c: unknown) => Promise<unknown>;
    };

  it('answers wait while the build has waited less than maxWaitSeconds, then fails it with Kiln.FleetWaitTimedOut', async () => {
    ddb.on(TransactWriteItemsCommand).rejects(cancelled('ConditionalCheckFailed', 'None', 'None'));
    ddb.on(GetItemCommand, { Key: { pk: { S: 'FLEET' }, sk: { S: 'COUNTER' } } }).resolves(counter(20));
    const { handler } = await load();
    const recent = new Date(Date.now() - 60_000).toISOString();
    ddb.on(UpdateItemCommand).resolves({ Attributes: { since: { S: recent } } });
    await expect(handler(holder, context)).resolves.toMatchObject({ acquired: false, since: recent });
    ddb.on(UpdateItemCommand).resolves({ Attributes: { since: { S: '2026-01-01T00:00:00.000Z' } } });
    await expect(handler(holder, context)).rejects.toMatchObject({
      name: 'Kiln.FleetWaitTimedOut',
      message: expect.stringContaining('Build amazon-ebs.a waited since 2026-01-01T00:00:00.000Z (more than 3600 s)'),
    });
  });
});
