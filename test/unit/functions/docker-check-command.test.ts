/**
 * CheckCommand on a docker build (the reference template planned by the real engine): the command at the cursor is
 * a host step (0 = prepare, 1..n = the provisioners in the container, n+1 = finish), labelled, timed and retried
 * as functions/lib/host-command.ts says, and the one-shot object a host step used is removed when it ends.
 */
import { DeleteObjectsCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { GetCommandInvocationCommand } from '@aws-sdk/client-ssm';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { checkCommand } from '../../../functions/ec2-host/check-command/check-command.ts';
import type { Ec2DockerState } from '../../../functions/lib/build-state.ts';
import { cursorCommand, DOCKER_STEP_TIMEOUT_SECONDS, dockerStepAt } from '../../../functions/lib/host-command.ts';
import type { StoredPlan } from '../../../functions/lib/plan-store.ts';
import { dockerHostState, dockerPlanText, referenceTemplate } from './docker-fakes.ts';
import { launchedState, mocks } from './fakes.ts';

const PREPARE = 'docker prepare (pull python:3.9-slim, run the container)';
const PROVISIONER = 'Provisioner #0 (shell) in the container';
const FINISH = 'docker finish (commit, post-processors, push)';

async function setup(index: number, opts: { planText?: string; attempt?: number; count?: number } = {}) {
  const planText = opts.planText ?? (await dockerPlanText());
  const m = mocks(planText);
  const state = dockerHostState(index, opts.count ?? 3, {
    provision: {
      index,
      count: opts.count ?? 3,
      attempt: opts.attempt ?? 0,
      commandId: 'cmd-1',
      sentAt: '2026-01-01T00:00:00.000Z',
    },
  });
  const plan = JSON.parse(planText) as StoredPlan;
  return {
    ...m,
    state,
    plan,
    check: (s: Ec2DockerState = state) => checkCommand({ ...m.deps, ssmFor: () => m.ssmClient }, { state: s }),
  };
}

const failure = (p: Promise<unknown>) => p.then(() => undefined).catch((e: unknown) => e as Error);

describe('the command at a docker build’s cursor', () => {
  it('labels prepare, each provisioner (in the container) and finish', async () => {
    const t = await setup(0);
    const build = t.plan.plan.builds[0];
    if (!build) throw new Error('no build');
    const at = (i: number) => cursorCommand(build, t.state, i);
    expect(at(0)).toEqual({
      label: PREPARE,
      validExitCodes: [0],
      expectDisconnect: false,
      maxRetries: 0,
      timeoutSeconds: DOCKER_STEP_TIMEOUT_SECONDS,
    });
    expect(at(1)).toEqual({ label: PROVISIONER, validExitCodes: [0], expectDisconnect: false, maxRetries: 0 });
    expect(at(2)).toMatchObject({ label: FINISH, timeoutSeconds: DOCKER_STEP_TIMEOUT_SECONDS });
    expect(() => at(3)).toThrow('docker host step 3 does not exist (1 provisioners)');
    expect(dockerStepAt(build.provisioners, 2)).toEqual({ kind: 'finish' });
    // The same plan index on an ec2-ami state is the template's provisioner itself, run on the instance.
    expect(cursorCommand(build, launchedState(), 0).label).toBe('Provisioner #0 (shell)');
  });

  it('takes a provisioner’s name, retries and timeout; its valid_exit_codes are mapped inside the script', async () => {
    const template = referenceTemplate();
    Object.assign(template.provisioners[0] ?? {}, {
      name: 'tests',
      max_retries: 2,
      timeout: '5m',
      valid_exit_codes: [0, 3],
      expect_disconnect: true,
    });
    const t = await setup(1, { planText: await dockerPlanText(template) });
    const build = t.plan.plan.builds[0];
    if (!build) throw new Error('no build');
    expect(cursorCommand(build, t.state, 1)).toEqual({
      label: 'Provisioner #0 (tests) in the container',
      validExitCodes: [0],
      // A container has no reboot to wait through.
      expectDisconnect: false,
      maxRetries: 2,
      timeoutSeconds: 300,
    });
  });
});

describe('CheckCommand on a docker build', () => {
  it('advances the cursor on Success, from prepare to the provisioner to finish', async () => {
    for (const index of [0, 1, 2]) {
      const t = await setup(index);
      t.ssm.on(GetCommandInvocationCommand).resolves({ Status: 'Success', ResponseCode: 0 });
      const out = await t.check();
      expect(t.ssm).toHaveReceivedCommandWith(GetCommandInvocationCommand, {
        CommandId: 'cmd-1',
        InstanceId: 'i-0dkr',
      });
      expect(out.state.provision).toEqual({ index: index + 1, count: 3, attempt: 0 });
      expect(out.wait).toEqual({ done: true, waitSeconds: 0 });
    }
  });

  it.each([
    [0, PREPARE],
    [1, PROVISIONER],
    [2, FINISH],
  ])('names host step %i in its failure: %s', async (index, label) => {
    const t = await setup(index);
    t.ssm.on(GetCommandInvocationCommand).resolves({
      Status: 'Failed',
      ResponseCode: 1,
      StandardErrorContent: 'ERROR: No matching distribution found for kiln-greeting\n',
    });
    const err = await failure(t.check());
    expect(err?.name).toBe('Kiln.ProvisionerFailed');
    expect(err?.message).toContain(`${label} failed on i-0dkr: Failed, exit code 1`);
    expect(err?.message).toContain('No matching distribution found for kiln-greeting');
    expect(err?.message).toContain(`s3://kiln-artifacts/builds/kb-test/logs/0/${index}-0/`);
  });

  it('fails on an exit code the provisioner lists as valid: the host script already mapped those to 0', async () => {
    const template = referenceTemplate();
    Object.assign(template.provisioners[0] ?? {}, { valid_exit_codes: [0, 3] });
    const t = await setup(1, { planText: await dockerPlanText(template) });
    t.ssm.on(GetCommandInvocationCommand).resolves({ Status: 'Failed', ResponseCode: 3 });
    expect((await failure(t.check()))?.message).toContain(`${PROVISIONER} failed on i-0dkr: Failed, exit code 3`);
  });

  it('asks the ASL to send a provisioner again while max_retries lasts; prepare and finish are not retried', async () => {
    const template = referenceTemplate();
    Object.assign(template.provisioners[0] ?? {}, { max_retries: 1 });
    const planText = await dockerPlanText(template);
    const t = await setup(1, { planText });
    t.ssm.on(GetCommandInvocationCommand).resolves({ Status: 'Failed', ResponseCode: 1 });
    const out = await t.check();
    expect(out.wait).toEqual({ done: false, waitSeconds: 0, retry: true });
    expect(out.state.provision).toEqual({ index: 1, count: 3, attempt: 1, paused: true });
    const last = await setup(1, { planText, attempt: 1 });
    last.ssm.on(GetCommandInvocationCommand).resolves({ Status: 'Failed', ResponseCode: 1 });
    expect((await failure(last.check()))?.message).toContain(
      `${PROVISIONER} failed on i-0dkr: Failed, exit code 1 after 2 attempts`,
    );
    const prepare = await setup(0, { planText });
    prepare.ssm.on(GetCommandInvocationCommand).resolves({ Status: 'Failed', ResponseCode: 1 });
    expect((await failure(prepare.check()))?.name).toBe('Kiln.ProvisionerFailed');
  });

  it('times prepare and finish out an hour (plus grace) after sending, naming the step', async () => {
    const t = await setup(2);
    t.ssm.on(GetCommandInvocationCommand).resolves({ Status: 'InProgress' });
    t.setNow('2026-01-01T01:05:00.000Z');
    expect((await t.check()).wait?.done).toBe(false);
    t.setNow('2026-01-01T01:10:01.000Z');
    const err = await failure(t.check());
    expect(err?.name).toBe('Kiln.Timeout');
    expect(err?.message).toBe(`${FINISH} got no result from Systems Manager within 70 minutes`);
  });

  it('removes every version of the one-shot object when a host step ends (finish carried the ECR password)', async () => {
    const t = await setup(2);
    const key = 'secrets/kb-test/oneshot/b0-p2-a0';
    t.s3.on(ListObjectVersionsCommand).resolves({
      Versions: [{ Key: key, VersionId: 'v1' }],
      DeleteMarkers: [{ Key: key, VersionId: 'v2' }],
    });
    t.ssm.on(GetCommandInvocationCommand).resolves({ Status: 'InProgress' });
    await t.check();
    expect(t.s3).not.toHaveReceivedCommand(ListObjectVersionsCommand);
    t.ssm.on(GetCommandInvocationCommand).resolves({ Status: 'Success', ResponseCode: 0 });
    await t.check();
    expect(t.s3).toHaveReceivedCommandWith(ListObjectVersionsCommand, { Bucket: 'kiln-artifacts', Prefix: key });
    expect(t.s3).toHaveReceivedCommandWith(DeleteObjectsCommand, {
      Bucket: 'kiln-artifacts',
      Delete: {
        Objects: [
          { Key: key, VersionId: 'v1' },
          { Key: key, VersionId: 'v2' },
        ],
        Quiet: true,
      },
    });
  });
});
