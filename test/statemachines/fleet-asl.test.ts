/**
 * The fleet bound's slot loop in the REAL statemachines/build.asl.json (composed as deployed): the state names,
 * result paths and inputs it shares with AcquireSlot/ReleaseSlot are those of aws/fleet-contract.ts, every exit
 * of a build that took a slot passes ReleaseSlot, and, run in aws-local-stepfunctions with an in-memory
 * semaphore, builds queue for a slot instead of exceeding the cap and every slot is given back, on failure paths too.
 */
import { fileURLToPath } from 'node:url';
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import {
  acquireOutputSchema,
  CAPACITY_DRIVERS,
  FLEET_ASL,
  slotTaskInputSchema,
  THROTTLED_WAIT_SECONDS,
} from '../../aws/fleet-contract.ts';
import { loadStateMachine } from '../../infra/asl-files.ts';
import { type FakeBuild, makeWorld } from './build-fakes.ts';

const ASL_PATH = fileURLToPath(new URL('../../statemachines/build.asl.json', import.meta.url));
const raw = loadStateMachine(ASL_PATH).text;
type State = Record<string, unknown> & { Type: string; Next?: string; End?: boolean };
const definition = JSON.parse(
  raw.replace(
    /\$\{(\w+)\}/g,
    (_, name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name.replace(/FunctionArn$/, '')}`,
  ),
);
const iterator = (
  JSON.parse(raw) as { States: { Builds: { ItemProcessor: { StartAt: string; States: Record<string, State> } } } }
).States.Builds.ItemProcessor;
const states = iterator.States;
const stateOf = (name: string): State => {
  const state = states[name];
  if (!state) throw new Error(`build.asl.json's Map iterator has no state ${name}`);
  return state;
};
const machine = new StateMachine(definition, { validationOptions: { checkArn: true } });
const EXECUTION_ARN = 'arn:aws:states:us-east-1:123456789012:execution:build:fleet-1';
const THROTTLED = 'Lambda.TooManyRequestsException';

describe('the slot loop of build.asl.json and aws/fleet-contract.ts agree', () => {
  it('starts every iteration at NeedsSlot, which sends exactly the capacity drivers to AcquireSlot', () => {
    expect(iterator.StartAt).toBe(FLEET_ASL.needsSlot);
    const needs = stateOf(FLEET_ASL.needsSlot) as State & {
      Choices: { Variable: string; StringEquals: string; Next: string }[];
      Default: string;
    };
    expect(needs.Type).toBe('Choice');
    expect(needs.Choices.map((c) => [c.Variable, c.StringEquals, c.Next])).toEqual(
      CAPACITY_DRIVERS.map((d) => ['$.state.driver', d, FLEET_ASL.acquire]),
    );
    expect(needs.Default).toBe(FLEET_ASL.routeDriver);
  });

  it('asks AcquireSlot with the holder the contract names, keeps its answer at the result path, loops on it', () => {
    const acquire = stateOf(FLEET_ASL.acquire) as State & {
      Parameters: Record<string, string>;
      ResultPath: string;
      Catch: { ErrorEquals: string[]; Next: string }[];
    };
    expect(acquire.Resource).toBe('${AcquireSlotFunctionArn}');
    expect(
      Object.keys(acquire.Parameters)
        .map((k) => k.replace(/\.\$$/, ''))
        .sort(),
    ).toEqual(Object.keys(slotTaskInputSchema.shape).sort());
    expect(acquire.Parameters['executionArn.$']).toBe('$$.Execution.Id');
    expect(acquire.ResultPath).toBe(FLEET_ASL.resultPath);
    expect(acquire.Next).toBe(FLEET_ASL.slotAcquired);
    expect(acquire.Catch.at(-1)).toMatchObject({ ErrorEquals: ['States.ALL'], Next: FLEET_ASL.slotUnavailable });

    const acquired = stateOf(FLEET_ASL.slotAcquired) as State & {
      Choices: { Variable: string; BooleanEquals: boolean; Next: string }[];
      Default: string;
    };
    expect(acquired.Choices).toEqual([
      { Variable: `${FLEET_ASL.resultPath}.acquired`, BooleanEquals: true, Next: FLEET_ASL.routeDriver },
    ]);
    expect(acquired.Default).toBe(FLEET_ASL.waitForSlot);
    const wait = stateOf(FLEET_ASL.waitForSlot);
    expect([wait.Type, wait.SecondsPath, wait.Next]).toEqual([
      'Wait',
      `${FLEET_ASL.resultPath}.waitSeconds`,
      FLEET_ASL.acquire,
    ]);
    // What the loop reads is what AcquireSlot answers.
    expect(Object.keys(acquireOutputSchema.shape)).toEqual(expect.arrayContaining(['acquired', 'waitSeconds']));
  });

  it('sends every build result through ReleaseSlot, which keeps the result and names the same holder', () => {
    for (const name of FLEET_ASL.releasedFrom) expect(stateOf(name).Next, name).toBe(FLEET_ASL.release);
    const release = stateOf(FLEET_ASL.release) as State & {
      Parameters: Record<string, string>;
      ResultPath: null;
      Catch: { ErrorEquals: string[]; Next: string }[];
    };
    expect(release.Resource).toBe('${ReleaseSlotFunctionArn}');
    expect(release.Parameters).toEqual({ 'executionArn.$': '$$.Execution.Id', 'build.$': '$.name' });
    expect(release.ResultPath).toBeNull();
    expect(release.Catch).toEqual([
      { ErrorEquals: [THROTTLED], ResultPath: '$.slotRelease', Next: FLEET_ASL.releaseThrottled },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.slotReleaseError', Next: FLEET_ASL.releaseFailed },
    ]);
  });

  it('never fails a build for throttling: past a few retries it waits a jittered while and asks again', () => {
    const random = `States.MathRandom(${THROTTLED_WAIT_SECONDS.min}, ${THROTTLED_WAIT_SECONDS.max})`;
    for (const name of [FLEET_ASL.acquire, FLEET_ASL.release]) {
      const task = stateOf(name) as State & {
        Retry: { ErrorEquals: string[]; MaxAttempts: number; JitterStrategy?: string }[];
        Catch: { ErrorEquals: string[]; Next: string }[];
      };
      const retry = task.Retry.find((r) => r.ErrorEquals.includes(THROTTLED));
      expect(retry, name).toMatchObject({ MaxAttempts: 3, JitterStrategy: 'FULL' });
      expect(
        task.Retry.filter((r) => r.ErrorEquals.includes(THROTTLED)),
        name,
      ).toHaveLength(1);
      // The throttle's Catch comes before States.ALL, which would end the build.
      expect(task.Catch[0]?.ErrorEquals, name).toEqual([THROTTLED]);
    }
    const acquireThrottled = stateOf(FLEET_ASL.slotThrottled) as State & {
      Parameters: Record<string, unknown>;
      ResultPath: string;
    };
    expect(acquireThrottled).toMatchObject({
      Type: 'Pass',
      ResultPath: FLEET_ASL.resultPath,
      Next: FLEET_ASL.waitForSlot,
    });
    expect(acquireThrottled.Parameters).toEqual({ acquired: false, throttled: true, 'waitSeconds.$': random });
    const releaseThrottled = stateOf(FLEET_ASL.releaseThrottled) as State & { Parameters: Record<string, unknown> };
    expect(releaseThrottled).toMatchObject({
      Type: 'Pass',
      ResultPath: '$.slotRelease',
      Next: FLEET_ASL.waitToRelease,
    });
    expect(releaseThrottled.Parameters).toEqual({ 'waitSeconds.$': random });
    expect(stateOf(FLEET_ASL.waitToRelease)).toMatchObject({
      Type: 'Wait',
      SecondsPath: '$.slotRelease.waitSeconds',
      Next: FLEET_ASL.release,
    });
  });

  it('ends an iteration only after the release, or where no slot was taken (DriverUnavailable)', () => {
    const ends = Object.entries(states)
      .filter(([, s]) => s.End === true)
      .map(([name]) => name)
      .sort();
    expect(ends).toEqual([FLEET_ASL.releaseFailed, FLEET_ASL.release, 'DriverUnavailable'].sort());
    // DriverUnavailable is reached only from RouteDriver's default: a driver NeedsSlot does not send to AcquireSlot.
    const route = stateOf(FLEET_ASL.routeDriver) as State & { Choices: { StringEquals: string }[]; Default: string };
    expect(route.Default).toBe('DriverUnavailable');
    expect(route.Choices.map((c) => c.StringEquals).sort()).toEqual([...CAPACITY_DRIVERS].sort());
  });
});

async function run(builds: FakeBuild[], cap: number) {
  const world = makeWorld(builds, cap);
  const execution = machine.run(
    { template: { bucket: 'templates', key: 'web/fleet.pkr.hcl', versionId: 'v1' } },
    {
      overrides: {
        taskResourceLocalHandlers: world.handlers,
        waitTimeOverrides: Object.fromEntries(
          [
            'WaitManaged',
            'PauseBefore',
            'WaitCommand',
            'WaitStopped',
            'WaitImage',
            'WaitCopies',
            'DockerWaitOnline',
            'DockerPauseBefore',
            'DockerWaitCommand',
            FLEET_ASL.waitForSlot,
            FLEET_ASL.waitToRelease,
          ].map((w) => [w, 1]),
        ),
        retryIntervalOverrides: { AcquireSlot: 0, ReleaseSlot: 0, Cleanup: 0 },
      },
      context: { Execution: { Name: 'fleet-1', Id: EXECUTION_ARN }, Task: { Token: 'local-task-token' } } as never,
    },
  );
  let error: unknown;
  await execution.result.catch((err: unknown) => {
    error = err;
  });
  const output = world.finalized.output as { builds: { name: string; status: string; error?: string }[] };
  return { world, output, error };
}

describe('the slot loop running (aws-local-stepfunctions, in-memory semaphore)', () => {
  it('queues builds beyond the cap: never more than the cap at once, every build finishes, every slot returns', async () => {
    // The Map runs 4 builds at once; a cap of 2 makes two of them wait at every turn.
    const builds: FakeBuild[] = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => ({
      name: `amazon-ebs.${n}`,
      driver: 'ec2-ami',
      provisioners: 1,
    }));
    const { world, output, error } = await run(builds, 2);
    expect(error).toBeUndefined();
    expect(output.builds.map((b) => [b.name, b.status])).toEqual(builds.map((b) => [b.name, 'SUCCEEDED']));
    expect(world.fleet.maxHeld).toBe(2);
    expect(world.fleet.refusals).toBeGreaterThan(0);
    expect(world.fleet.held.size).toBe(0);
    expect(world.fleet.released.sort()).toEqual(builds.map((b) => `${EXECUTION_ARN}#${b.name}`).sort());
    expect(world.fleet.emptyReleases).toBe(0);
    // No driver state ran before its build held a slot.
    for (const b of builds) {
      const order = world.calls.filter((c) => c.build === b.name).map((c) => c.state);
      expect(order.filter((s) => s !== 'AcquireSlot')[0], b.name).toBe('LaunchBuilder');
      expect(order.at(-1), b.name).toBe('ReleaseSlot');
    }
  });

  it('gives the slot back on the failure paths: cleanup, a crashed cleanup, an agent failure', async () => {
    const builds: FakeBuild[] = [
      { name: 'amazon-ebs.launch', driver: 'ec2-ami', failAt: { state: 'LaunchBuilder', error: 'Kiln.LaunchFailed' } },
      {
        name: 'amazon-ebs.crash',
        driver: 'ec2-ami',
        provisioners: 1,
        failAt: { state: 'RunProvisioner', error: 'Kiln.ProvisionerFailed' },
        cleanupCrashes: true,
      },
      { name: 'vmware-iso.lab', driver: 'agent', failAt: { state: 'AgentRunJob', error: 'Kiln.AgentBuildFailed' } },
      { name: 'docker.app', driver: 'ec2-docker', provisioners: 1 },
    ];
    const { world, output } = await run(builds, 1);
    expect(output.builds.map((b) => [b.name, b.status, b.error])).toEqual([
      ['amazon-ebs.launch', 'FAILED', 'Kiln.LaunchFailed'],
      ['amazon-ebs.crash', 'FAILED', 'Kiln.ProvisionerFailed'],
      ['vmware-iso.lab', 'FAILED', 'Kiln.AgentBuildFailed'],
      ['docker.app', 'SUCCEEDED', undefined],
    ]);
    expect(world.fleet.maxHeld).toBe(1);
    expect(world.fleet.held.size).toBe(0);
    expect(world.fleet.released).toHaveLength(4);
  });

  it('fails a build that gets no slot (Kiln.FleetWaitTimedOut) without launching it, and still releases', async () => {
    const { world, output } = await run(
      [
        {
          name: 'amazon-ebs.late',
          driver: 'ec2-ami',
          failAt: { state: 'AcquireSlot', error: 'Kiln.FleetWaitTimedOut' },
        },
        { name: 'amazon-ebs.ok', driver: 'ec2-ami', provisioners: 0 },
      ],
      5,
    );
    expect(output.builds.map((b) => [b.name, b.status, b.error])).toEqual([
      ['amazon-ebs.late', 'FAILED', 'Kiln.FleetWaitTimedOut'],
      ['amazon-ebs.ok', 'SUCCEEDED', undefined],
    ]);
    expect(world.calls.filter((c) => c.build === 'amazon-ebs.late').map((c) => c.state)).toEqual([
      'AcquireSlot',
      'ReleaseSlot',
    ]);
    // Nothing was held for it: the release found nothing, and said so without failing.
    expect(world.fleet.emptyReleases).toBe(1);
  });

  it('rides out throttling: a build throttled past every retry waits and asks again, and its slot still comes back', async () => {
    // 3 retries each: 4 refused calls exhaust one Retry, 9 exhaust two and a half rounds of the loop.
    const builds: FakeBuild[] = [
      { name: 'amazon-ebs.slow-acquire', driver: 'ec2-ami', provisioners: 0, throttled: { AcquireSlot: 9 } },
      { name: 'amazon-ebs.slow-release', driver: 'ec2-ami', provisioners: 0, throttled: { ReleaseSlot: 9 } },
    ];
    const { world, output, error } = await run(builds, 1);
    expect(error).toBeUndefined();
    expect(output.builds.map((b) => [b.name, b.status])).toEqual(builds.map((b) => [b.name, 'SUCCEEDED']));
    const callsOf = (build: string, state: string) =>
      world.calls.filter((c) => c.build === build && c.state === state).length;
    expect(callsOf('amazon-ebs.slow-release', 'ReleaseSlot')).toBe(10);
    expect(callsOf('amazon-ebs.slow-acquire', 'AcquireSlot')).toBeGreaterThanOrEqual(10);
    expect(world.fleet.maxHeld).toBe(1);
    expect(world.fleet.held.size).toBe(0);
    expect(world.fleet.released).toHaveLength(2);
    // Nothing of the throttle reaches the result: Finalize sees the build's own fields.
    expect(JSON.stringify(output.builds)).not.toContain('TooManyRequests');
  });

  it('takes no slot for a driver this deployment does not have', async () => {
    const { world, output } = await run([{ name: 'qemu.x', driver: 'qemu' as 'agent' }], 1);
    expect(output.builds[0]).toMatchObject({ status: 'FAILED', error: 'Kiln.DriverUnavailable' });
    expect(world.calls.filter((c) => c.build === 'qemu.x')).toEqual([]);
  });
});
