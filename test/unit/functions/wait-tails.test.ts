/**
 * The wait tail every check stage shares (functions/lib/polling.ts `waitOrTimeout`): before the deadline the
 * next wait of the adaptive back-off, at the deadline the stage's own Kiln.Timeout. Messages and timings are
 * pinned here for each stage, so the shared helper cannot change what a stage says or how long it waits.
 */
import { DescribeImagesCommand, DescribeInstancesCommand, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeInstanceInformationCommand, GetCommandInvocationCommand } from '@aws-sdk/client-ssm';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { TimeoutError } from '../../../core/errors.ts';
import { checkImages } from '../../../functions/ec2-ami/check-images/check-images.ts';
import { createImage } from '../../../functions/ec2-ami/create-image/create-image.ts';
import { checkCommand } from '../../../functions/ec2-host/check-command/check-command.ts';
import { checkManaged } from '../../../functions/ec2-host/check-managed/check-managed.ts';
import { waitOrTimeout } from '../../../functions/lib/polling.ts';
import { launchedState, mocks } from './fakes.ts';

const T0 = '2026-01-01T00:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();

/** The stage's result at `seconds` after its start: the wait, or the timeout's name and message. */
async function outcome(run: () => Promise<{ wait?: unknown }>) {
  try {
    return { wait: (await run()).wait };
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

describe('waitOrTimeout', () => {
  const base = { now: new Date(at(100)), deadlineSeconds: 600, minSeconds: 15 };
  const timeoutError = () => new TimeoutError('too slow');

  it('returns the next wait of the back-off before the deadline', () => {
    expect(waitOrTimeout({ ...base, since: T0, timeoutError })).toEqual({ done: false, waitSeconds: 67 });
    expect(waitOrTimeout({ ...base, now: new Date(at(590)), since: T0, timeoutError })).toEqual({
      done: false,
      waitSeconds: 15,
    });
  });

  it('counts an unknown start as now (the minimum wait)', () => {
    expect(waitOrTimeout({ ...base, since: undefined, timeoutError })).toEqual({ done: false, waitSeconds: 15 });
  });

  it('throws the stage’s error at the deadline, building it only then', () => {
    let built = 0;
    const counted = () => {
      built++;
      return new TimeoutError('too slow');
    };
    waitOrTimeout({ ...base, since: T0, timeoutError: counted });
    expect(built).toBe(0);
    expect(() => waitOrTimeout({ ...base, now: new Date(at(600)), since: T0, timeoutError: counted })).toThrow(
      'too slow',
    );
    expect(built).toBe(1);
  });
});

describe('the wait tail of each check stage', () => {
  it('CheckManaged: 10 minutes from launch, naming the usual causes', async () => {
    const t = mocks();
    t.ec2
      .on(DescribeInstancesCommand)
      .resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-0abc', State: { Name: 'pending' } }] }] });
    t.ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    const run = () => checkManaged({ ...t.deps, ssmFor: () => t.ssmClient }, { state: launchedState() });
    t.setNow(at(599));
    expect(await outcome(run)).toEqual({ wait: { done: false, waitSeconds: 15 } });
    t.setNow(at(300));
    expect(await outcome(run)).toEqual({ wait: { done: false, waitSeconds: 200 } });
    t.setNow(at(600));
    expect(await outcome(run)).toEqual({
      error:
        'Kiln.Timeout: The builder instance i-0abc did not come online in Systems Manager within 10 minutes. Usual ' +
        'causes: the subnet has no route to the SSM endpoints (add a NAT gateway or the ssm, ssmmessages and ' +
        'ec2messages VPC endpoints), the instance profile lacks AmazonSSMManagedInstanceCore, or the source AMI ' +
        'has no SSM agent (install it with user_data or pick an AMI that ships it).',
    });
  });

  it('CheckCommand: the provisioner timeout plus 10 minutes from SendCommand, 48 h + 10 min without one', async () => {
    const t = mocks();
    t.ssm.on(GetCommandInvocationCommand).resolves({ Status: 'InProgress' });
    const run = (index: number) => () =>
      checkCommand(
        { ...t.deps, ssmFor: () => t.ssmClient },
        { state: launchedState({ provision: { index, count: 7, attempt: 0, commandId: 'cmd-1', sentAt: T0 } }) },
      );
    // Provisioner #1 has timeout = 600 s: the deadline is 1,200 s.
    t.setNow(at(1199));
    expect(await outcome(run(1))).toEqual({ wait: { done: false, waitSeconds: 15 } });
    t.setNow(at(1200));
    expect(await outcome(run(1))).toEqual({
      error: 'Kiln.Timeout: Provisioner #1 (shell) got no result from Systems Manager within 20 minutes',
    });
    // Provisioner #0 has none: SSM's 48-hour maximum plus the grace.
    expect(await outcome(run(0))).toEqual({ wait: { done: false, waitSeconds: 300 } });
    t.setNow(at(48 * 3600 + 600));
    expect(await outcome(run(0))).toEqual({
      error: 'Kiln.Timeout: Provisioner #0 (shell) got no result from Systems Manager within 2890 minutes',
    });
  });

  it('CreateImage: 10 minutes for the builder to stop, from the stop request', async () => {
    const t = mocks();
    t.ec2
      .on(DescribeInstancesCommand)
      .resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-0abc', State: { Name: 'stopping' } }] }] });
    const run = () => createImage(t.deps, { state: launchedState({ stopRequestedAt: T0 }) });
    t.setNow(at(90));
    expect(await outcome(run)).toEqual({ wait: { done: false, waitSeconds: 60 } });
    t.setNow(at(600));
    expect(await outcome(run)).toEqual({ error: 'Kiln.Timeout: The builder i-0abc did not stop within 10 minutes' });
    expect(t.ec2).not.toHaveReceivedCommand(StopInstancesCommand);
  });

  it('CheckImages (the AMI and the copies): 60 minutes from the oldest pending request', async () => {
    const t = mocks();
    t.ec2.on(DescribeImagesCommand).resolves({ Images: [{ State: 'pending' }] });
    const image = { snapshotIds: [], available: false, copy: true };
    const state = launchedState({
      images: [
        { ...image, region: 'us-east-1', imageId: 'ami-src', requestedAt: T0, available: true, copy: false },
        { ...image, region: 'eu-west-1', imageId: 'ami-eu', requestedAt: at(600) },
        { ...image, region: 'ap-south-1', imageId: 'ami-ap', requestedAt: at(60) },
      ],
    });
    const run = () => checkImages(t.deps, { state });
    t.setNow(at(60 + 3599));
    expect(await outcome(run)).toEqual({ wait: { done: false, waitSeconds: 15 } });
    t.setNow(at(60 + 3600));
    expect(await outcome(run)).toEqual({
      error:
        'Kiln.Timeout: The AMI ami-eu (eu-west-1), ami-ap (ap-south-1) did not become available within 60 minutes; ' +
        'raise aws_polling { delay_seconds, max_attempts } for large volumes',
    });
  });
});
