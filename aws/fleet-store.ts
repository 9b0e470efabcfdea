/**
 * The fleet semaphore on DynamoDB (layout: aws/fleet-contract.ts FLEET_TABLE), conditional writes only:
 * - acquire: one transaction raises the counter if it is below the cap AND creates the holder's slot item if it
 *   does not exist; a cancelled transaction whose slot item exists means this holder already has it (a Step
 *   Functions retry after a lost answer), so a retry never takes two slots.
 * - release: one transaction deletes the slot item if it exists AND lowers the counter; no slot item: already
 *   released (idempotent).
 * - reclaim: a refused acquire checks the held slots due a check (core/fleet/slots.ts `dueForCheck`), one waiter
 *   per slot (a conditional claim on `checkedAt`), with states:DescribeExecution; a slot whose execution is no
 *   longer RUNNING (aborted, timed out, failed before its release ran) is released for it.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { TransientError } from '../core/errors.ts';
import {
  dueForCheck,
  executionEnded,
  type FleetPolicy,
  type HeldSlot,
  holderKey,
  nextWaitSeconds,
  type SlotHolder,
  type WaitingBuild,
} from '../core/fleet/slots.ts';
import { FLEET_TABLE } from './fleet-contract.ts';

export interface FleetStore {
  readonly dynamo: DynamoDBClient;
  readonly table: string;
}

/** Reads an execution's status (DescribeExecution); undefined when the execution does not exist. */
export type ExecutionStatusReader = (executionArn: string) => Promise<string | undefined>;

export interface AcquireDeps {
  readonly store: FleetStore;
  readonly policy: FleetPolicy;
  readonly executionStatus: ExecutionStatusReader;
  readonly now?: () => Date;
  readonly random?: () => number;
}

export interface AcquireResult {
  readonly acquired: boolean;
  readonly waitSeconds: number;
  readonly held: number;
  readonly cap: number;
  /** Acquired: when the slot was taken; waiting: the first refused attempt. */
  readonly since: string;
  readonly reclaimed: number;
}

type Item = Record<string, AttributeValue>;
const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });
const key = (sk: string): Item => ({
  [FLEET_TABLE.partitionKey]: S(FLEET_TABLE.partition),
  [FLEET_TABLE.sortKey]: S(sk),
});
const counterKey = () => key(FLEET_TABLE.counterSortKey);
const slotKey = (holder: SlotHolder) => key(`${FLEET_TABLE.slotPrefix}${holderKey(holder)}`);
const waiterKey = (holder: SlotHolder) => key(`${FLEET_TABLE.waiterPrefix}${holderKey(holder)}`);
const str = (item: Item, name: string): string | undefined => item[name]?.S;
const num = (item: Item, name: string): number | undefined =>
  item[name]?.N === undefined ? undefined : Number(item[name]?.N);

/** How often one call tries again when its transaction lost a race with another (not when the fleet is full). */
const CONFLICT_ATTEMPTS = 5;

function cancellationCodes(error: unknown): (string | undefined)[] | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  return (error.CancellationReasons ?? []).map((r) => r.Code);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Takes a slot for the holder if one is free (or it has one already); otherwise records it waiting. */
export async function acquireSlot(deps: AcquireDeps, holder: SlotHolder): Promise<AcquireResult> {
  const now = deps.now ?? (() => new Date());
  const cap = deps.policy.maxConcurrentBuilds;
  let reclaimed = 0;
  for (let round = 0; round < 2; round++) {
    const taken = await tryTake(deps.store, holder, cap, now().toISOString());
    if (taken.acquired) {
      return { acquired: true, waitSeconds: 0, held: taken.held, cap, since: taken.since, reclaimed };
    }
    // Full: take back the slots of ended executions, then try once more if any came free.
    const freed = round === 0 ? await reclaimEnded(deps) : 0;
    reclaimed += freed;
    if (freed === 0) break;
  }
  const at = now().toISOString();
  const waitSeconds = nextWaitSeconds(deps.policy, deps.random);
  const since = await recordWaiting(deps, holder, at, waitSeconds);
  const held = (await readCounter(deps.store)).held;
  return { acquired: false, waitSeconds, held, cap, since, reclaimed };
}

async function tryTake(
  store: FleetStore,
  holder: SlotHolder,
  cap: number,
  at: string,
): Promise<{ acquired: true; held: number; since: string } | { acquired: false }> {
  for (let attempt = 1; ; attempt++) {
    try {
      await store.dynamo.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Update: {
                TableName: store.table,
                Key: counterKey(),
                UpdateExpression: 'SET #held = if_not_exists(#held, :zero) + :one, #cap = :cap',
                ConditionExpression: 'attribute_not_exists(#held) OR #held < :cap',
                ExpressionAttributeNames: { '#held': 'held', '#cap': 'cap' },
                ExpressionAttributeValues: { ':zero': N(0), ':one': N(1), ':cap': N(cap) },
              },
            },
            {
              Put: {
                TableName: store.table,
                Item: {
                  ...slotKey(holder),
                  executionArn: S(holder.executionArn),
                  build: S(holder.build),
                  acquiredAt: S(at),
                },
                ConditionExpression: 'attribute_not_exists(#pk)',
                ExpressionAttributeNames: { '#pk': FLEET_TABLE.partitionKey },
              },
            },
            { Delete: { TableName: store.table, Key: waiterKey(holder) } },
          ],
        }),
      );
      return { acquired: true, held: (await readCounter(store)).held, since: at };
    } catch (error) {
      const codes = cancellationCodes(error);
      if (!codes) throw error;
      // Already this holder's (a retried task): the same slot, not a second one.
      const existing = await readSlot(store, holder);
      if (existing) return { acquired: true, held: (await readCounter(store)).held, since: existing.acquiredAt };
      if (codes[0] === 'ConditionalCheckFailed') return { acquired: false };
      // No reasons given (an emulator may omit them): the counter says whether it was full.
      if (codes.every((code) => code === undefined || code === 'None')) {
        if ((await readCounter(store)).held >= cap) return { acquired: false };
      }
      // Lost a race on the counter (TransactionConflict) or the slot item: ask again shortly.
      if (attempt >= CONFLICT_ATTEMPTS) {
        throw new TransientError(
          `The fleet table ${store.table} was contended ${attempt} times in a row (${codes.join(', ')}); the task is retried`,
          { cause: error },
        );
      }
      await pause(20 * attempt + Math.random() * 30);
    }
  }
}

/** Gives the holder's slot back; false when it held none (released before, or never acquired). */
export async function releaseSlot(store: FleetStore, holder: SlotHolder): Promise<boolean> {
  let released = false;
  for (let attempt = 1; ; attempt++) {
    try {
      await store.dynamo.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Delete: {
                TableName: store.table,
                Key: slotKey(holder),
                ConditionExpression: 'attribute_exists(#pk)',
                ExpressionAttributeNames: { '#pk': FLEET_TABLE.partitionKey },
              },
            },
            {
              Update: {
                TableName: store.table,
                Key: counterKey(),
                UpdateExpression: 'SET #held = #held - :one',
                ConditionExpression: '#held > :zero',
                ExpressionAttributeNames: { '#held': 'held' },
                ExpressionAttributeValues: { ':zero': N(0), ':one': N(1) },
              },
            },
          ],
        }),
      );
      released = true;
      break;
    } catch (error) {
      const codes = cancellationCodes(error);
      if (!codes) throw error;
      if (codes[0] === 'ConditionalCheckFailed') break;
      if (codes[1] === 'ConditionalCheckFailed') {
        // A slot item with the counter at 0 cannot come from these writes; say so rather than loop.
        throw new Error(
          `The fleet table ${store.table} holds slot ${holderKey(holder)} while its counter is 0: repair the table (delete the slot item) and report it`,
        );
      }
      if (attempt >= CONFLICT_ATTEMPTS) {
        throw new TransientError(
          `The fleet table ${store.table} was contended ${attempt} times in a row (${codes.join(', ')}); the task is retried`,
          { cause: error },
        );
      }
      await pause(20 * attempt + Math.random() * 30);
    }
  }
  // A build that gave up waiting leaves a waiter item; it is no longer waiting either way.
  await store.dynamo.send(new DeleteItemCommand({ TableName: store.table, Key: waiterKey(holder) }));
  return released;
}

/** Releases the slots of ended executions among those due a check; returns how many it released. */
export async function reclaimEnded(deps: AcquireDeps): Promise<number> {
  const now = (deps.now ?? (() => new Date()))();
  const slots = await readSlots(deps.store);
  let freed = 0;
  for (const slot of slots.filter((s) => dueForCheck(s, now, deps.policy))) {
    // One checker per slot and period: the waiter whose claim on checkedAt wins asks Step Functions.
    if (!(await claimCheck(deps.store, slot, now.toISOString()))) continue;
    const status = await deps.executionStatus(slot.executionArn);
    if (executionEnded(status) && (await releaseSlot(deps.store, slot))) freed++;
  }
  return freed;
}

async function claimCheck(store: FleetStore, slot: HeldSlot, at: string): Promise<boolean> {
  try {
    await store.dynamo.send(
      new UpdateItemCommand({
        TableName: store.table,
        Key: slotKey(slot),
        UpdateExpression: 'SET #checked = :at',
        ConditionExpression: slot.checkedAt
          ? 'attribute_exists(#pk) AND #checked = :seen'
          : 'attribute_exists(#pk) AND attribute_not_exists(#checked)',
        ExpressionAttributeNames: { '#pk': FLEET_TABLE.partitionKey, '#checked': 'checkedAt' },
        ExpressionAttributeValues: { ':at': S(at), ...(slot.checkedAt ? { ':seen': S(slot.checkedAt) } : {}) },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** Records (or refreshes) the holder as waiting; returns when it first waited. */
async function recordWaiting(deps: AcquireDeps, holder: SlotHolder, at: string, waitSeconds: number): Promise<string> {
  // Kept well past the longest wait, so a waiter whose execution ended disappears by itself.
  const ttl = Math.floor(Date.parse(at) / 1000) + deps.policy.maxWaitSeconds + 86_400;
  const out = await deps.store.dynamo.send(
    new UpdateItemCommand({
      TableName: deps.store.table,
      Key: waiterKey(holder),
      UpdateExpression:
        'SET #since = if_not_exists(#since, :at), #last = :at, executionArn = :arn, #build = :build, #ttl = :ttl, waitSeconds = :wait',
      ExpressionAttributeNames: {
        '#since': 'since',
        '#last': 'lastSeenAt',
        '#build': 'build',
        '#ttl': FLEET_TABLE.ttlAttribute,
      },
      ExpressionAttributeValues: {
        ':at': S(at),
        ':arn': S(holder.executionArn),
        ':build': S(holder.build),
        ':ttl': N(ttl),
        ':wait': N(waitSeconds),
      },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return out.Attributes?.since?.S ?? at;
}

async function readSlot(store: FleetStore, holder: SlotHolder): Promise<HeldSlot | undefined> {
  const out = await store.dynamo.send(
    new GetItemCommand({ TableName: store.table, Key: slotKey(holder), ConsistentRead: true }),
  );
  return out.Item ? slotOf(out.Item) : undefined;
}

async function readCounter(store: FleetStore): Promise<{ held: number; cap?: number }> {
  const out = await store.dynamo.send(
    new GetItemCommand({ TableName: store.table, Key: counterKey(), ConsistentRead: true }),
  );
  const cap = out.Item ? num(out.Item, 'cap') : undefined;
  return { held: (out.Item && num(out.Item, 'held')) ?? 0, ...(cap === undefined ? {} : { cap }) };
}

function slotOf(item: Item): HeldSlot {
  const checkedAt = str(item, 'checkedAt');
  return {
    executionArn: str(item, 'executionArn') ?? '',
    build: str(item, 'build') ?? '',
    acquiredAt: str(item, 'acquiredAt') ?? '',
    ...(checkedAt ? { checkedAt } : {}),
  };
}

function waiterOf(item: Item): WaitingBuild {
  const waitSeconds = num(item, 'waitSeconds');
  return {
    ...(waitSeconds === undefined ? {} : { waitSeconds }),
    executionArn: str(item, 'executionArn') ?? '',
    build: str(item, 'build') ?? '',
    since: str(item, 'since') ?? '',
    lastSeenAt: str(item, 'lastSeenAt') ?? '',
  };
}

/** The held slots only (a Query on the slot prefix: the waiters, possibly hundreds, are not read). */
async function readSlots(store: FleetStore): Promise<HeldSlot[]> {
  return (await queryPartition(store, FLEET_TABLE.slotPrefix)).map(slotOf);
}

async function queryPartition(store: FleetStore, prefix?: string): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const out = await store.dynamo.send(
      new QueryCommand({
        TableName: store.table,
        KeyConditionExpression: prefix ? '#pk = :pk AND begins_with(#sk, :prefix)' : '#pk = :pk',
        ExpressionAttributeNames: {
          '#pk': FLEET_TABLE.partitionKey,
          ...(prefix ? { '#sk': FLEET_TABLE.sortKey } : {}),
        },
        ExpressionAttributeValues: { ':pk': S(FLEET_TABLE.partition), ...(prefix ? { ':prefix': S(prefix) } : {}) },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

export interface FleetSnapshot {
  /** The counter: slots taken (equals `slots.length` unless a write is in flight). */
  readonly held: number;
  /** The cap the last acquire used (undefined before the first). */
  readonly cap?: number;
  readonly slots: readonly HeldSlot[];
  /** Every waiter item, stale ones included (core/fleet/slots.ts `stillWaiting` tells them apart). */
  readonly waiters: readonly WaitingBuild[];
}

/**
 * The counter and the held slots only, without the waiters (possibly hundreds of items): what a frequent
 * sampler of the cap needs (harness/fleet-run.ts reads it every half second while 500 builds run).
 */
export async function readHolding(store: FleetStore): Promise<Pick<FleetSnapshot, 'held' | 'cap' | 'slots'>> {
  const [counter, slots] = await Promise.all([readCounter(store), readSlots(store)]);
  return { ...counter, slots };
}

/** The whole fleet partition, read consistently (the counter, slots oldest first, waiters oldest first). */
export async function readFleet(store: FleetStore): Promise<FleetSnapshot> {
  const items = await queryPartition(store);
  const sk = (item: Item) => str(item, FLEET_TABLE.sortKey) ?? '';
  const counter = items.find((item) => sk(item) === FLEET_TABLE.counterSortKey);
  const slots = items
    .filter((item) => sk(item).startsWith(FLEET_TABLE.slotPrefix))
    .map(slotOf)
    .sort((a, b) => a.acquiredAt.localeCompare(b.acquiredAt));
  const waiters = items
    .filter((item) => sk(item).startsWith(FLEET_TABLE.waiterPrefix))
    .map(waiterOf)
    .sort((a, b) => a.since.localeCompare(b.since));
  const cap = counter ? num(counter, 'cap') : undefined;
  return { held: (counter && num(counter, 'held')) ?? 0, ...(cap === undefined ? {} : { cap }), slots, waiters };
}
