/**
 * The fleet semaphore (aws/fleet-store.ts) on moto's DynamoDB, its conditional transactions for real: the cap
 * holds under a crowd of concurrent acquirers, a holder asking again keeps its one slot, release is idempotent,
 * slots of ended executions are taken back (one checker per slot), and the snapshot `kiln status` reads agrees
 * with the counter.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FLEET_TABLE } from '../../aws/fleet-contract.ts';
import { type AcquireDeps, acquireSlot, type FleetStore, readFleet, releaseSlot } from '../../aws/fleet-store.ts';
import { DEFAULT_FLEET_POLICY, type FleetPolicy, type SlotHolder } from '../../core/fleet/slots.ts';
import { localClientConfig } from '../../harness/clients.ts';
import { type MotoServer, startMoto } from '../../harness/moto.ts';

let moto: MotoServer;
let dynamo: DynamoDBClient;
beforeAll(async () => {
  moto = await startMoto();
  dynamo = new DynamoDBClient(localClientConfig(moto.endpoint));
}, 60_000);
afterAll(async () => {
  await moto?.stop();
});

let tableCount = 0;
let store: FleetStore;
beforeEach(async () => {
  store = { dynamo, table: `fleet-${++tableCount}` };
  await dynamo.send(
    new CreateTableCommand({
      TableName: store.table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [FLEET_TABLE.partitionKey, FLEET_TABLE.sortKey].map((n) => ({
        AttributeName: n,
        AttributeType: 'S',
      })),
      KeySchema: [
        { AttributeName: FLEET_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: FLEET_TABLE.sortKey, KeyType: 'RANGE' },
      ],
    }),
  );
});

const holder = (i: number | string, execution = 'run'): SlotHolder => ({
  executionArn: `arn:aws:states:us-east-1:123456789012:execution:build:${execution}`,
  build: `amazon-ebs.b${i}`,
});

function deps(policy: Partial<FleetPolicy>, statuses: Record<string, string> = {}, now?: () => Date): AcquireDeps {
  return {
    store,
    policy: { ...DEFAULT_FLEET_POLICY, ...policy },
    executionStatus: async (arn) => statuses[arn] ?? 'RUNNING',
    random: () => 0.5,
    ...(now ? { now } : {}),
  };
}

describe('fleet semaphore on moto DynamoDB', () => {
  it('gives out exactly the cap to 60 concurrent acquirers and makes the others wait', async () => {
    const d = deps({ maxConcurrentBuilds: 7, waitSeconds: 10 });
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => acquireSlot(d, holder(i))));
    const acquired = results.filter((r) => r.acquired);
    expect(acquired).toHaveLength(7);
    expect(results.filter((r) => !r.acquired).every((r) => r.waitSeconds === 10 && r.cap === 7)).toBe(true);
    const fleet = await readFleet(store);
    expect(fleet.held).toBe(7);
    expect(fleet.cap).toBe(7);
    expect(fleet.slots).toHaveLength(7);
    expect(fleet.waiters).toHaveLength(53);
  });

  it('keeps one slot for a holder that asks again (a retried task), and releases it once', async () => {
    const d = deps({ maxConcurrentBuilds: 2 });
    const first = await acquireSlot(d, holder('x'));
    const again = await acquireSlot(d, holder('x'));
    expect([first.acquired, again.acquired]).toEqual([true, true]);
    expect(again.since).toBe(first.since);
    expect((await readFleet(store)).held).toBe(1);
    // The second slot is still free for someone else.
    expect((await acquireSlot(d, holder('y'))).acquired).toBe(true);
    expect(await releaseSlot(store, holder('x'))).toBe(true);
    expect(await releaseSlot(store, holder('x'))).toBe(false);
    expect(await releaseSlot(store, holder('never'))).toBe(false);
    const fleet = await readFleet(store);
    expect([fleet.held, fleet.slots.map((s) => s.build)]).toEqual([1, ['amazon-ebs.by']]);
  });

  it('records a waiter once, with the time it first waited, and forgets it when it gets a slot', async () => {
    let clock = Date.parse('2026-12-02T10:00:00Z');
    const d = deps({ maxConcurrentBuilds: 1 }, {}, () => new Date(clock));
    await acquireSlot(d, holder('a'));
    const waiting = await acquireSlot(d, holder('b'));
    clock += 60_000;
    const stillWaiting = await acquireSlot(d, holder('b'));
    expect([waiting.acquired, stillWaiting.acquired]).toEqual([false, false]);
    expect(stillWaiting.since).toBe('2026-12-02T10:00:00.000Z');
    expect((await readFleet(store)).waiters).toEqual([
      expect.objectContaining({
        build: 'amazon-ebs.bb',
        since: '2026-12-02T10:00:00.000Z',
        lastSeenAt: '2026-12-02T10:01:00.000Z',
      }),
    ]);
    await releaseSlot(store, holder('a'));
    expect((await acquireSlot(d, holder('b'))).acquired).toBe(true);
    expect((await readFleet(store)).waiters).toEqual([]);
  });

  it('takes back the slot of an ended execution, once it is due a check, and gives it to the waiter', async () => {
    let clock = Date.parse('2026-12-02T10:00:00Z');
    const ended = holder('lost', 'aborted-run');
    const statuses: Record<string, string> = { [ended.executionArn]: 'ABORTED' };
    const d = deps({ maxConcurrentBuilds: 2, recheckSeconds: 120 }, statuses, () => new Date(clock));
    await acquireSlot(d, ended);
    await acquireSlot(d, holder('alive'));
    // Too soon to check: the waiter waits, nothing is described.
    const early = await acquireSlot(d, holder('next'));
    expect([early.acquired, early.reclaimed]).toEqual([false, 0]);
    clock += 121_000;
    const later = await acquireSlot(d, holder('next'));
    expect([later.acquired, later.reclaimed]).toEqual([true, 1]);
    const fleet = await readFleet(store);
    expect(fleet.held).toBe(2);
    expect(fleet.slots.map((s) => s.build).sort()).toEqual(['amazon-ebs.balive', 'amazon-ebs.bnext']);
    // The running one was checked (checkedAt set), so it is not described again for another period.
    expect(fleet.slots.find((s) => s.build === 'amazon-ebs.balive')?.checkedAt).toBe(new Date(clock).toISOString());
  });

  it('lets one waiter per slot and period ask Step Functions, however many wait', async () => {
    let clock = Date.parse('2026-12-02T10:00:00Z');
    let described = 0;
    const d: AcquireDeps = {
      ...deps({ maxConcurrentBuilds: 3, recheckSeconds: 60 }, {}, () => new Date(clock)),
      executionStatus: async () => {
        described++;
        return 'RUNNING';
      },
    };
    for (const i of [1, 2, 3]) await acquireSlot(d, holder(i));
    clock += 61_000;
    const waiters = await Promise.all(Array.from({ length: 20 }, (_, i) => acquireSlot(d, holder(`w${i}`))));
    expect(waiters.every((w) => !w.acquired)).toBe(true);
    expect(described).toBe(3);
  });
});
