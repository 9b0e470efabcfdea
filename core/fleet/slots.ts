/**
 * The fleet bound: an account-wide cap on builds that hold capacity (an EC2 builder instance or an agent job) at
 * once. A build takes one slot before its driver starts and gives it back on every exit path; a build that finds
 * every slot taken waits (a Wait state in the build state machine) and asks again. Pure policy here: who holds a
 * slot, how long to wait, when a held slot is worth checking, when a waiter gives up. The DynamoDB store is
 * aws/fleet-store.ts; the ASL loop is statemachines/build.asl.json (contract aws/fleet-contract.ts).
 */

export interface FleetPolicy {
  /** Builds that may hold capacity at once (the stack prop `fleet.maxConcurrentBuilds`). */
  readonly maxConcurrentBuilds: number;
  /** Mean seconds a build waits before asking again when every slot is taken (jittered ±50 %). */
  readonly waitSeconds: number;
  /**
   * A waiter checks a held slot's execution (is it still RUNNING?) at most this often per slot: an execution
   * that was aborted or timed out never ran its release, and its slot is taken back once seen ended.
   */
  readonly recheckSeconds: number;
  /**
   * A build that waited this long for a slot fails (Kiln.FleetWaitTimedOut) instead of looping on: each wait
   * costs about 9 history events and an execution keeps at most 25,000.
   */
  readonly maxWaitSeconds: number;
}

export const DEFAULT_FLEET_POLICY: FleetPolicy = {
  maxConcurrentBuilds: 20,
  waitSeconds: 60,
  recheckSeconds: 120,
  maxWaitSeconds: 12 * 3600,
};

/** Bounds a deployment may set (the stack refuses others, the functions read only validated values). */
export const FLEET_LIMITS = {
  maxConcurrentBuilds: { min: 1, max: 10_000 },
  waitSeconds: { min: 1, max: 3600 },
  recheckSeconds: { min: 10, max: 86_400 },
  maxWaitSeconds: { min: 60, max: 30 * 86_400 },
} as const satisfies Record<keyof FleetPolicy, { min: number; max: number }>;

/** Problems with a policy, one sentence each naming the setting; [] when valid. */
export function fleetPolicyProblems(policy: FleetPolicy): string[] {
  return (Object.keys(FLEET_LIMITS) as (keyof FleetPolicy)[]).flatMap((key) => {
    const { min, max } = FLEET_LIMITS[key];
    const value = policy[key];
    return Number.isInteger(value) && value >= min && value <= max
      ? []
      : [`fleet.${key} must be a whole number from ${min} to ${max} (got ${value})`];
  });
}

/** Who holds (or waits for) a slot: one build of one execution. A Step Functions retry is the same holder. */
export interface SlotHolder {
  readonly executionArn: string;
  readonly build: string;
}

/** The holder's key: the execution ARN, then the build name (ARNs hold no `#`; build names may, so they go last). */
export function holderKey(holder: SlotHolder): string {
  return `${holder.executionArn}#${holder.build}`;
}

/** A slot as the store reads it. */
export interface HeldSlot extends SlotHolder {
  readonly acquiredAt: string;
  /** When a waiter last saw its execution RUNNING (absent: never checked). */
  readonly checkedAt?: string;
}

/** A build waiting for a slot. */
export interface WaitingBuild extends SlotHolder {
  /** Its first refused attempt. */
  readonly since: string;
  /** Its latest refused attempt. */
  readonly lastSeenAt: string;
  /** The wait it was given at that attempt (absent: unknown, the default policy's is assumed). */
  readonly waitSeconds?: number;
}

/** Seconds until the next attempt: waitSeconds × [0.5, 1.5), so 500 builds refused together do not ask together. */
export function nextWaitSeconds(policy: FleetPolicy, random: () => number = Math.random): number {
  return Math.max(1, Math.round(policy.waitSeconds * (0.5 + random())));
}

/** Whether a held slot's execution is due a check (never checked, or last checked recheckSeconds ago). */
export function dueForCheck(slot: HeldSlot, now: Date, policy: FleetPolicy): boolean {
  const last = Date.parse(slot.checkedAt ?? slot.acquiredAt);
  return now.getTime() - last >= policy.recheckSeconds * 1000;
}

/**
 * Whether a slot's execution no longer uses it (Step Functions' DescribeExecution `status`): anything but RUNNING.
 * A failed execution waiting for a redrive (PENDING_REDRIVE) counts as ended: a redrive that re-enters a build
 * runs on without a slot rather than holding one for the 14 days a redrive stays possible.
 */
export function executionEnded(status: string | undefined): boolean {
  return status !== 'RUNNING';
}

/** Whether a waiter gave up: it first asked maxWaitSeconds ago or more. */
export function waitedTooLong(since: string, now: Date, policy: FleetPolicy): boolean {
  return now.getTime() - Date.parse(since) >= policy.maxWaitSeconds * 1000;
}

/**
 * A waiter still counts as waiting while it is due to ask again, with two waits to spare: one whose execution
 * ended while waiting stops asking, and `kiln status` stops counting it (its item expires by TTL).
 */
export function stillWaiting(waiter: WaitingBuild, now: Date, policy: FleetPolicy = DEFAULT_FLEET_POLICY): boolean {
  const wait = waiter.waitSeconds ?? 1.5 * policy.waitSeconds;
  return now.getTime() - Date.parse(waiter.lastSeenAt) <= 3 * wait * 1000;
}

/** The message a build that waited too long fails with: what happened and what to change. */
export function waitTimedOutMessage(holder: SlotHolder, since: string, policy: FleetPolicy): string {
  return (
    `Build ${holder.build} waited since ${since} (more than ${policy.maxWaitSeconds} s) for one of the ` +
    `${policy.maxConcurrentBuilds} fleet slots and was not started. Raise fleet.maxConcurrentBuilds or ` +
    'fleet.maxWaitSeconds, or start fewer builds at once; `kiln status` shows who holds the slots'
  );
}
