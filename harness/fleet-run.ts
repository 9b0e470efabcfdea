/**
 * The fleet bound under load in the local emulator: N executions started at once of a state machine made of the
 * REAL slot-loop states of the deployed build state machine (NeedsSlot, AcquireSlot, SlotAcquired, WaitForSlot,
 * SlotUnavailable, BuildSucceeded, ReleaseSlot, SlotReleaseFailed, read back from moto with their real function
 * ARNs, so the real AcquireSlot/ReleaseSlot bundles run under the build state machine's own role), where a Wait
 * state named RouteDriver stands for the build (the whole pipeline per build is too heavy for moto 500 times).
 * While they run, the fleet table is sampled; afterwards every execution's history gives when it held a slot.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { executionHistory } from '../aws/execution-history.ts';
import { FLEET_ASL } from '../aws/fleet-contract.ts';
import { readFleet, readHolding } from '../aws/fleet-store.ts';
import { localClientConfig } from './clients.ts';
import type { KilnLocal } from './kiln-local.ts';

/** The states taken verbatim from the deployed build state machine's Map iterator. */
export const REAL_SLOT_STATES = [
  FLEET_ASL.needsSlot,
  FLEET_ASL.acquire,
  FLEET_ASL.slotAcquired,
  FLEET_ASL.waitForSlot,
  FLEET_ASL.slotThrottled,
  FLEET_ASL.slotUnavailable,
  'BuildSucceeded',
  FLEET_ASL.release,
  FLEET_ASL.releaseThrottled,
  FLEET_ASL.waitToRelease,
  FLEET_ASL.releaseFailed,
] as const;

type Json = Record<string, unknown>;

/** The slot-loop machine from the deployed build definition: its real states, a Wait standing for the driver. */
export function slotLoopDefinition(buildDefinition: string): Json {
  const parsed = JSON.parse(buildDefinition) as { States: { Builds: { ItemProcessor: { States: Json } } } };
  const iterator = parsed.States.Builds.ItemProcessor.States;
  const states: Json = {};
  for (const name of REAL_SLOT_STATES) {
    const state = iterator[name];
    if (!state) throw new Error(`the deployed build state machine has no state ${name} in its Map iterator`);
    states[name] = state;
  }
  states[FLEET_ASL.routeDriver] = {
    Type: 'Wait',
    Comment: 'Stands for the driver: the build holding its slot for $.buildSeconds',
    SecondsPath: '$.buildSeconds',
    Next: 'BuildSucceeded',
  };
  return {
    Comment: 'The fleet slot loop of build.asl.json as deployed, one build per execution',
    StartAt: FLEET_ASL.needsSlot,
    States: states,
  };
}

export interface FleetRunOptions {
  readonly builds: number;
  readonly buildSeconds: number;
  /** How often the fleet table is read while the executions run (default 250 ms). */
  readonly sampleMs?: number;
  readonly timeoutMs: number;
  /** Called once, when the first build waits, with the whole set running (e.g. to run `kiln status`). */
  readonly whileWaiting?: () => Promise<void>;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface FleetRunFigures {
  readonly builds: number;
  readonly cap: number;
  readonly buildSeconds: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Most slots held at once in the table's samples (the counter, and the slot items). */
  readonly maxHeldSampled: number;
  readonly maxSlotItemsSampled: number;
  readonly samples: number;
  /** Most builds between their acquired AcquireSlot and their ReleaseSlot at once, from the histories. */
  readonly maxHeldFromHistories: number;
  readonly totalSeconds: number;
  /** Execution start → slot acquired, seconds. */
  readonly acquireWaitP50: number;
  readonly acquireWaitP99: number;
  readonly acquireWaitMax: number;
  /** AcquireSlot calls in all (acquired ones included). */
  readonly acquireCalls: number;
  /** Turns through SlotThrottled and ReleaseThrottled (AcquireSlot/ReleaseSlot throttled past their Retry). */
  readonly acquireThrottledTurns: number;
  readonly releaseThrottledTurns: number;
  /** Slots held when everything ended (0: every slot came back). */
  readonly heldAtEnd: number;
  /** The first few builds that did not succeed, with their error and cause. */
  readonly failures: readonly string[];
}

export const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;

/** Runs the slot loop for `builds` executions started at once; the fleet's cap is the deployed functions'. */
export async function runFleet(
  kiln: KilnLocal,
  fleetTable: string,
  options: FleetRunOptions,
): Promise<FleetRunFigures> {
  const config = localClientConfig(kiln.aws.endpoint);
  const sfn = new SFNClient(config);
  const store = { dynamo: new DynamoDBClient(config), table: fleetTable };
  const build = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: kiln.deployment.stateMachineArn }));
  const roleArn = kiln.deployment.stateMachineRoleArn ?? build.roleArn;
  const machine = await sfn.send(
    new CreateStateMachineCommand({
      name: `fleet-slot-loop-${Date.now()}`,
      definition: JSON.stringify(slotLoopDefinition(build.definition ?? '{}')),
      roleArn,
    }),
  );
  const started = Date.now();
  const arns = await Promise.all(
    Array.from({ length: options.builds }, async (_, i) => {
      const out = await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: machine.stateMachineArn,
          name: `fleet-${i}`,
          input: JSON.stringify({
            state: { name: `amazon-ebs.b${i}`, index: 0, driver: 'ec2-ami' },
            buildSeconds: options.buildSeconds,
          }),
        }),
      );
      return out.executionArn as string;
    }),
  );

  let maxHeldSampled = 0;
  let maxSlotItemsSampled = 0;
  let samples = 0;
  let cap = 0;
  let waitingSeen = false;
  const pending = new Set(arns);
  const statuses = new Map<string, string>();
  const failures: string[] = [];
  const deadline = started + options.timeoutMs;
  let lastStatusCheck = 0;
  while (pending.size > 0) {
    if (Date.now() > deadline) {
      throw new Error(
        `fleet run: ${pending.size} of ${options.builds} executions still running after ${options.timeoutMs} ms`,
      );
    }
    // The counter and slot items each round; the waiters (hundreds of items, a load on moto) only until one is seen.
    const fleet = await readHolding(store);
    samples++;
    maxHeldSampled = Math.max(maxHeldSampled, fleet.held);
    maxSlotItemsSampled = Math.max(maxSlotItemsSampled, fleet.slots.length);
    cap = fleet.cap ?? cap;
    if (!waitingSeen && options.whileWaiting && (await readFleet(store)).waiters.length > 0) {
      waitingSeen = true;
      await options.whileWaiting();
    }
    // Execution statuses are polled less often than the table: one listing of the running ones, then a
    // DescribeExecution only for each that ended (one per execution over the run, not one per round).
    if (Date.now() - lastStatusCheck >= 2000) {
      lastStatusCheck = Date.now();
      const running = await runningExecutions(sfn, machine.stateMachineArn as string);
      for (const arn of [...pending].filter((a) => !running.has(a))) {
        const out = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
        if (out.status !== 'RUNNING') {
          pending.delete(arn);
          // The build's result, not the execution's status: a failed build result (SlotUnavailable) still
          // ends the execution successfully, as in the build state machine.
          const result = JSON.parse(out.output ?? '{}') as { status?: string; error?: string; cause?: string };
          statuses.set(arn, out.status === 'SUCCEEDED' ? (result.status ?? 'UNKNOWN') : (out.status ?? 'UNKNOWN'));
          if (result.status !== 'SUCCEEDED' && failures.length < 3) {
            failures.push(
              `${arn.split(':').at(-1)}: ${out.status} ${result.error ?? ''} ${result.cause ?? out.cause ?? ''}`,
            );
          }
        }
      }
      options.onProgress?.(options.builds - pending.size, options.builds);
    }
    await new Promise((resolve) => setTimeout(resolve, options.sampleMs ?? 250));
  }
  const totalSeconds = (Date.now() - started) / 1000;
  const heldAtEnd = (await readFleet(store)).held;

  // From the histories: the span each build surely held its slot (AcquireSlot answered acquired → ReleaseSlot entered).
  const spans: { from: number; to: number }[] = [];
  const waits: number[] = [];
  let acquireCalls = 0;
  let acquireThrottledTurns = 0;
  let releaseThrottledTurns = 0;
  for (const arn of arns) {
    const events = await executionHistory(sfn, arn);
    const entered = (name: string) =>
      events.filter((e) => e.type === 'PassStateEntered' && e.stateEnteredEventDetails?.name === name).length;
    acquireThrottledTurns += entered(FLEET_ASL.slotThrottled);
    releaseThrottledTurns += entered(FLEET_ASL.releaseThrottled);
    const startedAt = events.find((e) => e.type === 'ExecutionStarted')?.timestamp?.getTime() ?? started;
    const exits = events.filter(
      (e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === FLEET_ASL.acquire,
    );
    acquireCalls += exits.length;
    const acquired = exits.find((e) => {
      const output = JSON.parse(e.stateExitedEventDetails?.output ?? '{}') as { slot?: { acquired?: boolean } };
      return output.slot?.acquired === true;
    });
    const released = events.find(
      (e) => e.type === 'TaskStateEntered' && e.stateEnteredEventDetails?.name === FLEET_ASL.release,
    );
    const from = acquired?.timestamp?.getTime();
    const to = released?.timestamp?.getTime();
    if (from !== undefined && to !== undefined) {
      spans.push({ from, to });
      waits.push((from - startedAt) / 1000);
    }
  }
  const edges = spans.flatMap((s) => [
    { at: s.from, delta: 1 },
    { at: s.to, delta: -1 },
  ]);
  // Ends before starts at the same instant: a release and the next acquire in one millisecond do not overlap.
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let maxHeldFromHistories = 0;
  for (const edge of edges) {
    open += edge.delta;
    maxHeldFromHistories = Math.max(maxHeldFromHistories, open);
  }
  const sorted = [...waits].sort((a, b) => a - b);
  const round = (n: number) => Number(n.toFixed(1));
  return {
    builds: options.builds,
    cap,
    buildSeconds: options.buildSeconds,
    succeeded: [...statuses.values()].filter((s) => s === 'SUCCEEDED').length,
    failed: [...statuses.values()].filter((s) => s !== 'SUCCEEDED').length,
    maxHeldSampled,
    maxSlotItemsSampled,
    samples,
    maxHeldFromHistories,
    totalSeconds: round(totalSeconds),
    acquireWaitP50: round(percentile(sorted, 50)),
    acquireWaitP99: round(percentile(sorted, 99)),
    acquireWaitMax: round(sorted.at(-1) ?? Number.NaN),
    acquireCalls,
    acquireThrottledTurns,
    releaseThrottledTurns,
    heldAtEnd,
    failures,
  };
}

async function runningExecutions(sfn: SFNClient, stateMachineArn: string): Promise<Set<string>> {
  const running = new Set<string>();
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 1000, nextToken }),
    );
    for (const e of page.executions ?? []) if (e.executionArn) running.add(e.executionArn);
    nextToken = page.nextToken;
  } while (nextToken);
  return running;
}
