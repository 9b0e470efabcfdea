/**
 * Cleanup of a failed docker build: the build's containers (the `docker-containers` entry RunHostStep records at
 * prepare, after the instance) are removed over SSM with core's cleanup script before the host is terminated;
 * a failure there is a failed step of the report, never thrown, and the host is still terminated.
 */
import { DescribeImagesCommand, DescribeInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  GetCommandInvocationCommand,
  InvalidInstanceId,
  ListCommandsCommand,
  SendCommandCommand,
} from '@aws-sdk/client-ssm';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderCleanup } from '../../../core/docker/host.ts';
import { cleanupBuild } from '../../../functions/common/cleanup/cleanup.ts';
import { CLEANUP_CONTRIBUTIONS } from '../../../functions/common/cleanup/table.ts';
import { CONTAINER_CLEANUP_WAIT_SECONDS } from '../../../functions/ec2-docker/cleanup-entries.ts';
import type { Ec2DockerState } from '../../../functions/lib/build-state.ts';
import { dockerHostState, dockerPlanText, referenceTemplate } from './docker-fakes.ts';
import { mocks, SECRET } from './fakes.ts';

const error = {
  Error: 'Kiln.ProvisionerFailed',
  Cause: JSON.stringify({
    errorType: 'Kiln.ProvisionerFailed',
    errorMessage: 'Provisioner #0 (shell) in the container failed',
  }),
};
const CONTAINERS = { kind: 'docker-containers', region: 'us-east-1', instanceId: 'i-0dkr' } as const;

async function setup(planText?: string) {
  const m = mocks(planText ?? (await dockerPlanText()));
  m.ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
  m.ec2.on(DescribeImagesCommand).resolves({ Images: [] });
  m.ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-rm' } });
  const sleeps: number[] = [];
  const run = (state: Ec2DockerState, withSsm = true) =>
    cleanupBuild(
      {
        ...m.deps,
        ...(withSsm ? { ssmFor: () => m.ssmClient } : {}),
        sleep: async (ms: number) => {
          sleeps.push(ms);
        },
      },
      { state, error },
    );
  return { ...m, sleeps, run };
}

/** A docker build that failed in a provisioner: host launched, containers recorded by prepare. */
const failed = () =>
  dockerHostState(1, 3, {
    created: [{ kind: 'instance', region: 'us-east-1', id: 'i-0dkr' }, CONTAINERS],
  });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Cleanup of a docker build', () => {
  it('removes the containers with core’s cleanup script over SSM, waits for it, then terminates the host', async () => {
    const t = await setup();
    t.ssm
      .on(GetCommandInvocationCommand)
      .resolvesOnce({ Status: 'Pending' })
      .resolvesOnce({ Status: 'InProgress' })
      .resolves({ Status: 'Success', ResponseCode: 0 });
    const result = await t.run(failed());
    expect(t.ssm).toHaveReceivedCommandTimes(SendCommandCommand, 1);
    const input = t.ssm.commandCalls(SendCommandCommand)[0]?.args[0].input;
    expect(input).toEqual({
      InstanceIds: ['i-0dkr'],
      DocumentName: 'AWS-RunShellScript',
      Comment: 'kiln kb-test b0 remove containers',
      Parameters: {
        commands: renderCleanup({ buildId: 'kb-test' }).replace(/\n$/, '').split('\n'),
        executionTimeout: [String(CONTAINER_CLEANUP_WAIT_SECONDS)],
      },
    });
    const script = input?.Parameters?.commands?.join('\n') ?? '';
    expect(script).toContain('docker ps -aq --filter label=kiln.build-id=kb-test');
    expect(script).toContain('rm -rf -- "$kiln_state"');
    expect(t.ssm).toHaveReceivedCommandTimes(GetCommandInvocationCommand, 3);
    expect(t.ssm).toHaveReceivedCommandWith(GetCommandInvocationCommand, { CommandId: 'cmd-rm', InstanceId: 'i-0dkr' });
    expect(t.sleeps).toEqual([1000, 1000]);
    // Containers first (recorded after the instance; Cleanup walks `created` in reverse), then the host.
    expect(result.cleanup).toEqual({
      steps: [
        { action: 'remove-containers', target: 'i-0dkr', region: 'us-east-1', outcome: 'removed' },
        { action: 'terminate-instance', target: 'i-0dkr', region: 'us-east-1', outcome: 'removed' },
      ],
      complete: true,
    });
    expect(t.ec2).toHaveReceivedCommandWith(TerminateInstancesCommand, { InstanceIds: ['i-0dkr'] });
    const removal = t.ssm.commandCalls(SendCommandCommand)[0];
    const termination = t.ec2.commandCalls(TerminateInstancesCommand)[0];
    if (!removal || !termination) throw new Error('both calls were asserted above');
    expect(removal.calledBefore(termination)).toBe(true);
    expect(result).toMatchObject({ driver: 'ec2-docker', status: 'FAILED', error: 'Kiln.ProvisionerFailed' });
  });

  it('reports a failed cleanup script as a failed step, not thrown, and still terminates the host', async () => {
    const t = await setup();
    t.ssm.on(GetCommandInvocationCommand).resolves({ Status: 'Failed', ResponseCode: 2 });
    const result = await t.run(failed());
    expect(result.cleanup.steps).toEqual([
      {
        action: 'remove-containers',
        target: 'i-0dkr',
        region: 'us-east-1',
        outcome: 'failed',
        message: 'Error: the cleanup script ended Failed (exit code 2)',
      },
      { action: 'terminate-instance', target: 'i-0dkr', region: 'us-east-1', outcome: 'removed' },
    ]);
    expect(result.cleanup.complete).toBe(false);
  });

  it('gives up on the script after its wait, as a failed step', async () => {
    const t = await setup();
    let clock = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => clock);
    // Each poll sleeps a second (no time here): move the clock 20 s a poll, past the 60 s wait on the fourth.
    t.ssm.on(GetCommandInvocationCommand).callsFake(async () => {
      clock += 20_000;
      return { Status: 'InProgress' };
    });
    const result = await t.run(failed());
    expect(t.ssm).toHaveReceivedCommandTimes(GetCommandInvocationCommand, 3);
    expect(result.cleanup.steps[0]).toMatchObject({
      action: 'remove-containers',
      outcome: 'failed',
      message: `Error: the cleanup script gave no result within ${CONTAINER_CLEANUP_WAIT_SECONDS}s`,
    });
    expect(result.cleanup.steps[1]).toMatchObject({ action: 'terminate-instance', outcome: 'removed' });
  });

  it('reports a refused SendCommand as a failed step and goes on', async () => {
    const t = await setup();
    t.ssm
      .on(SendCommandCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $metadata: {} }));
    const result = await t.run(failed());
    expect(result.cleanup.steps[0]).toEqual({
      action: 'remove-containers',
      target: 'i-0dkr',
      region: 'us-east-1',
      outcome: 'failed',
      message: 'AccessDeniedException: not authorized',
    });
    expect(result.cleanup.steps[1]).toMatchObject({ action: 'terminate-instance', outcome: 'removed' });
  });

  it('counts containers on a host that no longer takes commands (terminated after finish) as already gone', async () => {
    const t = await setup();
    t.ssm
      .on(SendCommandCommand)
      .rejects(new InvalidInstanceId({ message: 'Instances [[i-0dkr]] not in a valid state', $metadata: {} }));
    const result = await t.run(failed());
    expect(result.cleanup.steps).toEqual([
      { action: 'remove-containers', target: 'i-0dkr', region: 'us-east-1', outcome: 'already-gone' },
      { action: 'terminate-instance', target: 'i-0dkr', region: 'us-east-1', outcome: 'removed' },
    ]);
    expect(result.cleanup.complete).toBe(true);
    expect(t.ssm).not.toHaveReceivedCommand(GetCommandInvocationCommand);
  });

  it('without an SSM client, reports the containers step failed and terminates the host', async () => {
    const t = await setup();
    const result = await t.run(failed(), false);
    expect(result.cleanup.steps[0]).toMatchObject({ action: 'remove-containers', outcome: 'failed' });
    expect(result.cleanup.steps[0]?.message).toContain('this Cleanup has no SSM client');
    expect(result.cleanup.steps[1]).toMatchObject({ action: 'terminate-instance', outcome: 'removed' });
  });

  it('a build that failed before prepare sent anything only terminates its host', async () => {
    const t = await setup();
    const result = await t.run(dockerHostState(0));
    expect(t.ssm).not.toHaveReceivedCommand(SendCommandCommand);
    expect(result.cleanup.steps).toEqual([
      { action: 'terminate-instance', target: 'i-0dkr', region: 'us-east-1', outcome: 'removed' },
    ]);
  });

  it('the docker group owns the docker-containers kind', () => {
    expect(Object.keys(CLEANUP_CONTRIBUTIONS['ec2-docker'] ?? {})).toContain('docker-containers');
  });

  it('runs the error-cleanup-provisioner in the container first; one carrying a secret goes through bash', async () => {
    const template = {
      ...referenceTemplate(),
      'error-cleanup-provisioner': { type: 'shell', inline: [`echo ${SECRET}`] },
    };
    // As PrepareBuild stores a build with sensitive values: the plan marked sealed, the values in the sealed object.
    const sealed = JSON.stringify({ ...JSON.parse(await dockerPlanText(template)), sealed: true });
    const t = await setup(sealed);
    t.ssm.on(ListCommandsCommand).resolves({ Commands: [] });
    t.ssm
      .on(SendCommandCommand, { Comment: 'kiln kb-test b0 error-cleanup' })
      .resolves({ Command: { CommandId: 'cmd-ec' } });
    t.ssm.on(GetCommandInvocationCommand).resolves({ Status: 'Success', ResponseCode: 0 });
    const result = await cleanupBuild(
      {
        ...t.deps,
        ssmFor: () => t.ssmClient,
        presign: async (method, bucket, key) => `https://${bucket}.s3.example/${key}?X-Amz-Signature=${method}`,
        sleep: async () => undefined,
        waitSeconds: 60,
      },
      { state: failed(), error },
    );
    expect(result.cleanup.steps.map((s) => [s.action, s.outcome])).toEqual([
      ['error-cleanup-provisioner', 'ran'],
      ['remove-containers', 'removed'],
      ['terminate-instance', 'removed'],
    ]);
    const commands = t.ssm.commandCalls(SendCommandCommand)[0]?.args[0].input.Parameters?.commands ?? [];
    expect(commands.join('\n')).not.toContain(SECRET);
    expect(commands).toContain('bash "$kiln_script"');
    const stored = String(t.s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Body);
    expect(stored).toContain('docker exec');
    expect(stored).toContain(`echo ${SECRET}`);
  });
});
