/**
 * Runs the REAL statemachines/build.asl.json, composed with the driver files it includes exactly as the CDK
 * construct composes it, in aws-local-stepfunctions with fake stage handlers: happy paths, a failure injected at
 * every stage (cleanup runs, the build fails, siblings succeed), driver routing, and the number of state
 * transitions an adaptive AMI wait costs.
 */

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { BUILTIN_ERROR_NAMES, KILN_ERROR_NAMES, type KilnErrorName } from '../../core/errors.ts';
import { KILN_FUNCTIONS } from '../../functions/registry.ts';
import { loadStateMachine } from '../../infra/asl-files.ts';
import { taskPlaceholdersOf } from '../../infra/function-triggers.ts';
import { type FakeBuild, makeWorld } from './build-fakes.ts';

const ASL_PATH = fileURLToPath(new URL('../../statemachines/build.asl.json', import.meta.url));
const raw = loadStateMachine(ASL_PATH).text;
const placeholders = [...new Set([...raw.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1] as string))];
const filled = raw.replace(
  /\$\{(\w+)\}/g,
  (_, name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name.replace(/FunctionArn$/, '')}`,
);
const definition = JSON.parse(filled);
// Built once per file: schema compilation costs 100-200 ms per construction.
const machine = new StateMachine(definition, { validationOptions: { checkArn: true } });

const WAITS = [
  'WaitManaged',
  'PauseBefore',
  'WaitCommand',
  'WaitStopped',
  'WaitImage',
  'WaitCopies',
  'DockerWaitOnline',
  'DockerPauseBefore',
  'DockerWaitCommand',
  'WaitForSlot',
];
const TASKS = [
  'PrepareBuild',
  'LaunchBuilder',
  'CheckManaged',
  'RunProvisioner',
  'CheckCommand',
  'CreateImage',
  'CheckImage',
  'Terminate',
  'Distribute',
  'CheckCopies',
  'PublishImage',
  'DockerLaunchHost',
  'DockerCheckOnline',
  'DockerRunStep',
  'DockerCheckCommand',
  'DockerTerminate',
  'DockerRecordImages',
  'Cleanup',
  'Finalize',
  'AcquireSlot',
  'ReleaseSlot',
];

type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

interface BuildResult {
  name: string;
  status: 'SUCCEEDED' | 'FAILED';
  error?: string;
  cause?: string;
  cleanup?: { steps: { action: string; target: string }[]; complete: boolean };
  state?: { images: { region: string }[] };
}

const EXECUTION_ARN = 'arn:aws:states:us-east-1:123456789012:execution:build:exec-1';

async function run(builds: FakeBuild[], key = 'web/ubuntu.pkr.hcl', fleetCap?: number) {
  const world = makeWorld(builds, fleetCap);
  const input = { template: { bucket: 'templates', key, versionId: 'v1' } };
  const execution = machine.run(input, {
    overrides: {
      taskResourceLocalHandlers: world.handlers,
      waitTimeOverrides: Object.fromEntries(WAITS.map((w) => [w, 0])),
      retryIntervalOverrides: Object.fromEntries(TASKS.map((t) => [t, 0])),
    },
    // The library fills no task token: a fixed one stands for it (`.waitForTaskToken` tasks read $$.Task.Token).
    context: {
      Execution: { Name: 'exec-1', Id: EXECUTION_ARN, Input: input },
      Task: { Token: 'local-task-token' },
    } as never,
  });
  const events: EventLog[] = [];
  const collect = (async () => {
    for await (const e of execution.eventLogs) events.push(e);
  })();
  let result: { buildId: string; status: string; summary: string; builds: BuildResult[] } | undefined;
  let error: unknown;
  try {
    result = (await execution.result) as unknown as typeof result;
  } catch (err) {
    error = err;
    // A failed build fails the execution after Finalize: its result is then Finalize's output.
    result = world.finalized.output as unknown as typeof result;
  }
  await collect;
  const entered = events
    .filter((e) => e.type === 'StateEntered')
    .map((e) => (e as { state: { name: string } }).state.name);
  return { world, result, error, entered };
}

describe('build.asl.json structure', () => {
  it('passes asl-validator (validated on a copy: the validator mutates its input)', () => {
    const require = createRequire(import.meta.url);
    const mod = require('asl-validator') as { default?: unknown };
    const validate = (mod.default ?? mod) as (d: unknown) => { isValid: boolean; errorsText: () => string };
    const result = validate(JSON.parse(raw));
    expect(result.errorsText()).toBe('');
    expect(result.isValid).toBe(true);
  });

  it("uses exactly the placeholders of the registry's build tasks", () => {
    // Functions with another trigger (ShellLocal: invoked by RunProvisioner) are not states.
    expect(placeholders.sort()).toEqual(taskPlaceholdersOf(KILN_FUNCTIONS, 'build'));
  });

  it('matches only Kiln error names or built-ins in every Retry and Catch', () => {
    const names = new Set<string>([...KILN_ERROR_NAMES, ...BUILTIN_ERROR_NAMES]);
    const used = [...raw.matchAll(/"ErrorEquals":\s*\[([^\]]*)\]/g)].flatMap(
      (m) => JSON.parse(`[${m[1]}]`) as string[],
    );
    expect(used.length).toBeGreaterThan(20);
    expect(used.filter((n) => !names.has(n))).toEqual([]);
  });

  it('gives every Lambda task the standard Lambda retry and the Kiln.Transient retry', () => {
    const tasks: {
      name: string;
      Retry?: { ErrorEquals: string[]; IntervalSeconds?: number; MaxAttempts?: number; BackoffRate?: number }[];
    }[] = [];
    const visit = (states: Record<string, Record<string, unknown>>) => {
      for (const [name, s] of Object.entries(states)) {
        if (s.Type === 'Task') tasks.push({ name, ...(s as object) });
        const inner = (s.ItemProcessor ?? s.Iterator) as
          | { States: Record<string, Record<string, unknown>> }
          | undefined;
        if (inner) visit(inner.States);
      }
    };
    visit(JSON.parse(raw).States);
    // 1 parent (PrepareBuild) + RecordPrepareFailure + Finalize + Cleanup + AcquireSlot + ReleaseSlot are 6; ec2-ami
    // has 10, ec2-docker 6, agent 1.
    expect(tasks).toHaveLength(23);
    for (const t of tasks) {
      const lambda = t.Retry?.find((r) => r.ErrorEquals.includes('Lambda.ServiceException'));
      expect(lambda, t.name).toMatchObject({ IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2 });
      expect(lambda?.ErrorEquals).toEqual(
        expect.arrayContaining(['Lambda.AWSLambdaException', 'Lambda.SdkClientException']),
      );
      // Throttling is retried everywhere; the slot tasks give it a retrier (and a Catch) of its own
      // (test/statemachines/fleet-asl.test.ts).
      expect(
        t.Retry?.some((r) => r.ErrorEquals.includes('Lambda.TooManyRequestsException')),
        t.name,
      ).toBe(true);
      expect(
        t.Retry?.some((r) => r.ErrorEquals.includes('Kiln.Transient')),
        t.name,
      ).toBe(true);
    }
  });
});

describe('build.asl.json execution', () => {
  it('runs one ec2-ami build end to end and finalizes with its images', async () => {
    const { result, error, world } = await run([
      { name: 'amazon-ebs.ubuntu', driver: 'ec2-ami', provisioners: 3, regions: ['eu-west-1'] },
    ]);
    expect(error).toBeUndefined();
    expect(result?.builds).toHaveLength(1);
    expect(result?.builds[0]).toMatchObject({ name: 'amazon-ebs.ubuntu', status: 'SUCCEEDED' });
    expect(result?.builds[0]?.state?.images.map((i) => i.region)).toEqual(['us-east-1', 'eu-west-1']);
    const order = world.calls.map((c) => c.state);
    expect(order.filter((s) => s === 'RunProvisioner')).toHaveLength(3);
    expect(order.indexOf('Terminate')).toBeGreaterThan(order.indexOf('CheckImage'));
    expect(order.indexOf('PublishImage')).toBeGreaterThan(order.indexOf('CheckCopies'));
    expect(order.at(-1)).toBe('Finalize');
    expect(world.cleanups).toEqual([]);
  });

  it('runs several builds, each to its own result', async () => {
    const builds: FakeBuild[] = ['a', 'b', 'c', 'd', 'e'].map((n) => ({
      name: `amazon-ebs.${n}`,
      driver: 'ec2-ami',
      provisioners: 1,
    }));
    const { result, error } = await run(builds);
    expect(error).toBeUndefined();
    expect(result?.builds.map((b) => [b.name, b.status])).toEqual(builds.map((b) => [b.name, 'SUCCEEDED']));
  });

  const failingStages = [
    ['LaunchBuilder', 'Kiln.AmiNameInUse', 0],
    ['CheckManaged', 'Kiln.Timeout', 1],
    ['CheckManaged', 'Kiln.BuilderUnreachable', 1],
    ['RunProvisioner', 'Kiln.ProvisionerFailed', 1],
    ['CheckCommand', 'Kiln.ProvisionerFailed', 1],
    ['CreateImage', 'Kiln.ImageFailed', 1],
    ['CheckImage', 'Kiln.ImageFailed', 2],
    ['Terminate', 'Kiln.LaunchFailed', 2],
    ['Distribute', 'Kiln.DistributeFailed', 2],
    ['CheckCopies', 'Kiln.Timeout', 3],
    ['PublishImage', 'Kiln.DistributeFailed', 3],
  ] as const;

  it.each(failingStages)(
    'a failure at %s (%s) ends in cleanup and a failed build; the sibling succeeds',
    async (stage, errorName, created) => {
      const { result, error, world } = await run([
        {
          name: 'amazon-ebs.bad',
          driver: 'ec2-ami',
          failAt: { state: stage, error: errorName },
          regions: ['eu-west-1'],
        },
        { name: 'amazon-ebs.good', driver: 'ec2-ami', regions: ['eu-west-1'] },
      ]);
      // Packer exits non-zero when any build fails: the execution fails after Finalize, naming the build.
      expect((error as Error).message).toContain(`1 of 2 builds failed: amazon-ebs.bad (${errorName})`);
      expect(result?.status).toBe('PARTIAL');
      const bad = result?.builds.find((b) => b.name === 'amazon-ebs.bad');
      expect(bad).toMatchObject({ status: 'FAILED', error: errorName });
      expect(bad?.cause).toContain(`${stage} failed`);
      // Cleanup saw everything created before the failure, and removed it newest first.
      expect(world.cleanups).toHaveLength(1);
      expect(world.cleanups[0]?.created).toHaveLength(created);
      expect(bad?.cleanup?.steps.map((s) => s.target)).toEqual(
        [...(world.cleanups[0]?.created ?? [])].reverse().map((c) => ('id' in c ? c.id : '')),
      );
      expect(result?.builds.find((b) => b.name === 'amazon-ebs.good')?.status).toBe('SUCCEEDED');
    },
  );

  it('routes a distribute failure returned as data to cleanup with the copies already made', async () => {
    const { result, world } = await run([
      {
        name: 'amazon-ebs.multi',
        driver: 'ec2-ami',
        regions: ['eu-west-1', 'ap-south-1', 'us-west-2'],
        distributeFailsAfter: 2,
      },
    ]);
    expect(result?.builds[0]).toMatchObject({ status: 'FAILED', error: 'Kiln.DistributeFailed' });
    const regions = world.cleanups[0]?.created
      .filter((c) => c.kind === 'image')
      .map((c) => ('region' in c ? c.region : ''));
    expect(regions).toEqual(['us-east-1', 'eu-west-1', 'ap-south-1']);
    expect(result?.builds[0]?.cleanup?.steps[0]?.action).toBe('image');
  });

  it('still returns a failed build result when the Cleanup Lambda itself fails', async () => {
    const { result, error } = await run([
      {
        name: 'amazon-ebs.x',
        driver: 'ec2-ami',
        failAt: { state: 'CreateImage', error: 'Kiln.ImageFailed' },
        cleanupCrashes: true,
      },
    ]);
    expect((error as Error).message).toContain('1 of 1 builds failed: amazon-ebs.x (Kiln.ImageFailed)');
    expect(result?.builds[0]).toMatchObject({
      status: 'FAILED',
      error: 'Kiln.ImageFailed',
      cleanup: { complete: false },
    });
  });

  it('ends a var file upload at NotATemplate, successfully, without building or finalizing', async () => {
    const { result, error, world, entered } = await run(
      [{ name: 'amazon-ebs.x', driver: 'ec2-ami' }],
      'web/prod.pkrvars.json',
    );
    expect(error).toBeUndefined();
    expect(entered).toEqual(['PrepareBuild', 'IsTemplate', 'NotATemplate']);
    expect((result as unknown as { skipped: string }).skipped).toContain('variable file');
    expect(world.calls.map((c) => c.state)).toEqual(['PrepareBuild']);
  });

  it('runs an ec2-docker build through its driver file: host, prepare, provisioners, finish, terminate, images', async () => {
    const { result, error, world, entered } = await run([
      { name: 'docker.app', driver: 'ec2-docker', provisioners: 1 },
    ]);
    expect(error).toBeUndefined();
    expect(result?.builds[0]).toMatchObject({ name: 'docker.app', status: 'SUCCEEDED' });
    const order = world.calls.filter((c) => c.build === 'docker.app').map((c) => c.state);
    // prepare, the one provisioner, finish: three host steps, each sent once and polled once.
    expect(order).toEqual([
      'AcquireSlot',
      'LaunchBuilder',
      'CheckManaged',
      'CheckManaged',
      'RunHostStep',
      'CheckCommand',
      'RunHostStep',
      'CheckCommand',
      'RunHostStep',
      'CheckCommand',
      'Terminate',
      'RecordImages',
      'ReleaseSlot',
    ]);
    expect(entered).toContain('DockerLaunchHost');
    expect(entered).not.toContain('CreateImage');
    const state = result?.builds[0]?.state as unknown as { pushed: { digest: string }[] };
    expect(state.pushed[0]?.digest).toMatch(/^sha256:/);
    expect(world.cleanups).toEqual([]);
  });

  it('cleans up a docker build that fails in a provisioner: its containers first, then the host', async () => {
    const { result, world } = await run([
      {
        name: 'docker.app',
        driver: 'ec2-docker',
        provisioners: 1,
        failAt: { state: 'CheckCommand', error: 'Kiln.ProvisionerFailed' },
      },
    ]);
    expect(result?.builds[0]).toMatchObject({ status: 'FAILED', error: 'Kiln.ProvisionerFailed' });
    expect(world.cleanups[0]?.created.map((c) => c.kind)).toEqual(['instance', 'docker-containers']);
    expect(world.calls.map((c) => c.state)).not.toContain('RecordImages');
  });

  it("hands an agent build to the gateway task and keeps the agent's outcome in the state", async () => {
    const { result, world } = await run([
      { name: 'vmware-iso.base', driver: 'agent' },
      { name: 'amazon-ebs.ok', driver: 'ec2-ami', provisioners: 0 },
    ]);
    expect(result?.builds.map((b) => [b.name, b.status])).toEqual([
      ['vmware-iso.base', 'SUCCEEDED'],
      ['amazon-ebs.ok', 'SUCCEEDED'],
    ]);
    const state = result?.builds[0]?.state as unknown as { agent: { agentId: string; artifacts: unknown[] } };
    expect(state.agent).toMatchObject({ agentId: 'ag-1', artifacts: [{ builderId: 'packer.null' }] });
    expect(world.calls.filter((c) => c.build === 'vmware-iso.base').map((c) => c.state)).toEqual([
      'AcquireSlot',
      'AgentRunJob',
      'ReleaseSlot',
    ]);
  });

  it.each([
    ['Kiln.NoAgentAvailable', 'Kiln.NoAgentAvailable'],
    ['Kiln.AgentBuildFailed', 'Kiln.AgentBuildFailed'],
    ['Kiln.DriverUnavailable', 'Kiln.DriverUnavailable'],
  ] as const)('sends an agent job failing with %s to Cleanup as a failed build', async (thrown, reported) => {
    const { result, world, error } = await run([
      { name: 'vmware-iso.base', driver: 'agent', failAt: { state: 'AgentRunJob', error: thrown } },
    ]);
    expect(result?.builds[0]).toMatchObject({ status: 'FAILED', error: reported });
    expect(world.cleanups.map((c) => c.build)).toEqual(['vmware-iso.base']);
    expect(((error as Error).cause as Error).name).toBe('Kiln.BuildFailed');
  });

  it('names a silent gateway (the task heartbeat timed out) Kiln.AgentLost', async () => {
    const { result } = await run([
      {
        name: 'vmware-iso.base',
        driver: 'agent',
        failAt: { state: 'AgentRunJob', error: 'States.HeartbeatTimeout' as KilnErrorName },
      },
    ]);
    expect(result?.builds[0]).toMatchObject({ status: 'FAILED', error: 'Kiln.AgentLost' });
    expect(result?.builds[0]?.cause).toContain('No heartbeat from the agent gateway');
  });

  it('fails a build of a driver this deployment does not have without launching anything', async () => {
    const { result, world } = await run([{ name: 'qemu.x', driver: 'qemu' as 'agent' }]);
    expect(result?.builds[0]).toMatchObject({ status: 'FAILED', error: 'Kiln.DriverUnavailable' });
    expect(result?.builds[0]?.cause).toContain('This deployment has no qemu driver');
    expect(world.calls.filter((c) => c.build === 'qemu.x')).toEqual([]);
  });

  it('waits pause_before in a Wait state and re-sends a failed command while max_retries allows', async () => {
    const { result, entered, world } = await run([
      { name: 'amazon-ebs.p', driver: 'ec2-ami', provisioners: 2, pauseAt: 0, flakyAt: { index: 1, failures: 2 } },
    ]);
    expect(result?.builds[0]?.status).toBe('SUCCEEDED');
    expect(entered.filter((s) => s === 'PauseBefore')).toHaveLength(1);
    // Provisioner 0: pause then send; provisioner 1: first send plus two retries.
    expect(world.calls.filter((c) => c.state === 'RunProvisioner')).toHaveLength(5);
    expect(world.calls.filter((c) => c.state === 'CheckCommand')).toHaveLength(4);
  });

  it('fails the execution with Kiln.TemplateInvalid when PrepareBuild rejects the template', async () => {
    const { error, world } = await run([
      { name: 'amazon-ebs.x', driver: 'ec2-ami', failAt: { state: 'PrepareBuild', error: 'Kiln.TemplateInvalid' } },
    ]);
    expect(error).toBeInstanceOf(Error);
    expect(((error as Error).cause as Error).name).toBe('Kiln.TemplateInvalid');
    expect((error as Error).message).toContain('template.pkr.hcl:3:5');
    // Recorded first (a FAILED record; a schedule counts it), with the execution's input as started.
    expect(world.calls.map((c) => c.state)).toEqual(['PrepareBuild', 'RecordPrepareFailure']);
    expect(world.prepareFailures).toEqual([
      {
        prepareFailed: {
          start: { template: { bucket: 'templates', key: 'web/ubuntu.pkr.hcl', versionId: 'v1' } },
          error: 'Kiln.TemplateInvalid',
          cause: expect.stringContaining('template.pkr.hcl:3:5'),
        },
        executionName: 'exec-1',
      },
    ]);
  });

  it("still fails with PrepareBuild's error when recording the failure fails too", async () => {
    const { error, world } = await run([
      {
        name: 'amazon-ebs.x',
        driver: 'ec2-ami',
        failAt: { state: 'PrepareBuild', error: 'Kiln.TemplateInvalid' },
        recordPrepareFailureCrashes: true,
      },
    ]);
    expect(((error as Error).cause as Error).name).toBe('Kiln.TemplateInvalid');
    expect(world.calls.map((c) => c.state)).toEqual(['PrepareBuild', 'RecordPrepareFailure']);
  });

  it('retries Kiln.Transient on the same state instead of failing the build', async () => {
    const world = makeWorld([{ name: 'amazon-ebs.t', driver: 'ec2-ami', provisioners: 0 }]);
    let failures = 0;
    const original = world.handlers.Terminate as (i: unknown) => Promise<unknown>;
    const handlers = {
      ...world.handlers,
      Terminate: async (input: unknown) => {
        if (failures++ < 2) throw Object.assign(new Error('throttled'), { name: 'Kiln.Transient' });
        return original(input);
      },
    };
    const out = (await machine.run(
      { template: { bucket: 'b', key: 'k.pkr.hcl' } },
      {
        context: { Execution: { Name: 'exec-2', Id: `${EXECUTION_ARN}-2` } } as never,
        overrides: {
          taskResourceLocalHandlers: handlers as never,
          waitTimeOverrides: Object.fromEntries(WAITS.map((w) => [w, 0])),
          retryIntervalOverrides: Object.fromEntries(TASKS.map((t) => [t, 0])),
        },
      },
    ).result) as unknown as { builds: BuildResult[] };
    expect(failures).toBe(3);
    expect(out.builds[0]?.status).toBe('SUCCEEDED');
  });

  it('keeps a 30-minute AMI wait under 40 state transitions with the adaptive back-off', async () => {
    const { result, entered, world } = await run([
      { name: 'amazon-ebs.slow', driver: 'ec2-ami', provisioners: 0, imageSeconds: 1800 },
    ]);
    expect(result?.builds[0]?.status).toBe('SUCCEEDED');
    const imageLoop = entered.filter((s) => s === 'WaitImage' || s === 'CheckImage' || s === 'ImageChoice');
    // A fixed 15 s poll would cost 1800 / 15 * 3 = 360 transitions.
    expect(imageLoop.length).toBeLessThan(40);
    expect(world.calls.filter((c) => c.state === 'CheckImage').length).toBeGreaterThan(5);
    // The simulated clock shows the AMI was really waited for (and not much longer: ≤ 5 min late).
    const waited = world.clock.get('amazon-ebs.slow') ?? 0;
    expect(waited).toBeGreaterThanOrEqual(1800);
    expect(waited).toBeLessThan(1800 + 300 + 120);
  });
});
