/**
 * The fleet bound's contract, in one place: the table's keys, the environment variables, the two Lambda tasks'
 * input and output, and the names the build state machine's slot loop uses (statemachines/build.asl.json;
 * test/statemachines/fleet-asl.test.ts checks the file against these). Policy: core/fleet/slots.ts. Store:
 * aws/fleet-store.ts.
 */
import * as z from 'zod/mini';
import { DEFAULT_FLEET_POLICY, type FleetPolicy } from '../core/fleet/slots.ts';

/**
 * One small table, generic keys, one partition (`FLEET`): the counter, one item per held slot, one per waiting
 * build. A single partition holds every item because the cap is read and taken in one conditional transaction;
 * a few hundred builds at once is far below a partition's 1,000 writes a second.
 *
 * | item    | pk      | sk                 | attributes                                                     |
 * |---------|---------|--------------------|----------------------------------------------------------------|
 * | counter | `FLEET` | `COUNTER`          | `held` (slots taken), `cap` (the cap of the last acquire)      |
 * | slot    | `FLEET` | `SLOT#<holder>`    | executionArn, build, acquiredAt, checkedAt                     |
 * | waiter  | `FLEET` | `WAIT#<holder>`    | executionArn, build, since, lastSeenAt, `ttl` (epoch seconds)  |
 */
export const FLEET_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'ttl',
  partition: 'FLEET',
  counterSortKey: 'COUNTER',
  slotPrefix: 'SLOT#',
  waiterPrefix: 'WAIT#',
} as const;

/** Environment variables of AcquireSlot and ReleaseSlot (the CLI reads the table name from the first too). */
export const FLEET_ENV = {
  table: 'KILN_FLEET_TABLE',
  maxConcurrentBuilds: 'KILN_FLEET_MAX_CONCURRENT_BUILDS',
  waitSeconds: 'KILN_FLEET_WAIT_SECONDS',
  recheckSeconds: 'KILN_FLEET_RECHECK_SECONDS',
  maxWaitSeconds: 'KILN_FLEET_MAX_WAIT_SECONDS',
} as const satisfies Record<'table' | keyof FleetPolicy, string>;

/** The policy the environment names (absent variables: the defaults); the caller validates it. */
export function fleetPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): FleetPolicy {
  const read = (key: keyof FleetPolicy): number => {
    const raw = env[FLEET_ENV[key]];
    return raw === undefined || raw === '' ? DEFAULT_FLEET_POLICY[key] : Number(raw);
  };
  return {
    maxConcurrentBuilds: read('maxConcurrentBuilds'),
    waitSeconds: read('waitSeconds'),
    recheckSeconds: read('recheckSeconds'),
    maxWaitSeconds: read('maxWaitSeconds'),
  };
}

/** The drivers whose builds hold capacity (an EC2 builder instance, an agent job): they take a slot first. */
export const CAPACITY_DRIVERS = ['ec2-ami', 'ec2-docker', 'agent'] as const;

/** The states of the slot loop and release, as build.asl.json names them, and where the loop keeps its answer. */
export const FLEET_ASL = {
  /** Choice at the iteration's start: a capacity driver takes a slot, any other goes straight to RouteDriver. */
  needsSlot: 'NeedsSlot',
  acquire: 'AcquireSlot',
  /** Choice on `<resultPath>.acquired`. */
  slotAcquired: 'SlotAcquired',
  /** Wait of `<resultPath>.waitSeconds`, then AcquireSlot again. */
  waitForSlot: 'WaitForSlot',
  /**
   * AcquireSlot throttled past its retries (Lambda.TooManyRequestsException, its Catch): an answer of "not yet"
   * with a wait of States.MathRandom(THROTTLED_WAIT_SECONDS), then WaitForSlot. Throttling is never a build failure.
   */
  slotThrottled: 'SlotThrottled',
  /** AcquireSlot failed for good (its Catch): a failed build result, then the release. */
  slotUnavailable: 'SlotUnavailable',
  /** Every build result passes here before the iteration ends (BuildSucceeded, Cleanup, CleanupFailed, SlotUnavailable). */
  release: 'ReleaseSlot',
  /** ReleaseSlot failed for good: the result is kept; the slot is taken back once the execution ends. */
  releaseFailed: 'SlotReleaseFailed',
  /** ReleaseSlot throttled past its retries: a jittered wait (at `$.slotRelease.waitSeconds`), then ReleaseSlot again. */
  releaseThrottled: 'ReleaseThrottled',
  waitToRelease: 'WaitToRelease',
  /** The driver router the loop hands over to. */
  routeDriver: 'RouteDriver',
  /** Where AcquireSlot's output is put in the iteration's input (`$.slot`). */
  resultPath: '$.slot',
  /** The build result states that end by releasing. */
  releasedFrom: ['BuildSucceeded', 'Cleanup', 'CleanupFailed', 'SlotUnavailable'],
} as const;

/**
 * The jittered wait, in seconds, after AcquireSlot or ReleaseSlot was throttled past its Retry: the bounds of the
 * ASL's `States.MathRandom` (a fixed wait would send every throttled build back at the same instant).
 */
export const THROTTLED_WAIT_SECONDS = { min: 5, max: 30 } as const;

/** AcquireSlot's and ReleaseSlot's input: the holder (ASL: `$$.Execution.Id` and the build's name). */
export const slotTaskInputSchema = z.object({
  executionArn: z.string().check(z.minLength(1)),
  build: z.string().check(z.minLength(1)),
});
export type SlotTaskInput = z.infer<typeof slotTaskInputSchema>;

/** AcquireSlot's output (at FLEET_ASL.resultPath): the loop reads `acquired` and `waitSeconds`. */
export const acquireOutputSchema = z.object({
  acquired: z.boolean(),
  /** Seconds to wait before asking again (0 once acquired). */
  waitSeconds: z.int().check(z.minimum(0)),
  /** Slots taken when it asked, and the cap. */
  held: z.int(),
  cap: z.int(),
  /** When it first asked (waiting) or took the slot (acquired). */
  since: z.string(),
  /** Slots of ended executions taken back by this call. */
  reclaimed: z.int(),
});
export type AcquireOutput = z.infer<typeof acquireOutputSchema>;

export const releaseOutputSchema = z.object({ released: z.boolean() });
export type ReleaseOutput = z.infer<typeof releaseOutputSchema>;
