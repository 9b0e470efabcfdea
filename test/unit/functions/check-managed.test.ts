import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeInstanceInformationCommand } from '@aws-sdk/client-ssm';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { checkManaged } from '../../../functions/check-managed/check-managed.ts';
import { launchedState, mocks, planWith } from './fakes.ts';

function setup(planText?: string) {
  const m = mocks(planText);
  m.ec2
    .on(DescribeInstancesCommand)
    .resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-0abc', State: { Name: 'running' } }] }] });
  return { ...m, check: () => checkManaged({ ...m.deps, ssmFor: () => m.ssmClient }, { state: launchedState() }) };
}

describe('checkManaged', () => {
  it('is done once Systems Manager reports the instance Online', async () => {
    const t = setup();
    t.ssm
      .on(DescribeInstanceInformationCommand)
      .resolves({ InstanceInformationList: [{ InstanceId: 'i-0abc', PingStatus: 'Online' }] });
    expect((await t.check()).wait).toEqual({ done: true, waitSeconds: 0 });
    expect(t.ssm).toHaveReceivedCommandWith(DescribeInstanceInformationCommand, {
      Filters: [{ Key: 'InstanceIds', Values: ['i-0abc'] }],
    });
  });

  it('waits with the adaptive back-off, never past the deadline', async () => {
    const t = setup();
    t.ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    t.setNow('2026-01-01T00:00:10.000Z');
    expect((await t.check()).wait).toEqual({ done: false, waitSeconds: 15 });
    t.setNow('2026-01-01T00:06:00.000Z');
    expect((await t.check()).wait).toEqual({ done: false, waitSeconds: 240 });
    t.setNow('2026-01-01T00:09:00.000Z');
    expect((await t.check()).wait).toEqual({ done: false, waitSeconds: 60 });
  });

  it('times out after 10 minutes naming the usual causes', async () => {
    const t = setup();
    t.ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    t.setNow('2026-01-01T00:10:00.000Z');
    const err = (await t.check().catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('Kiln.Timeout');
    expect(err.message).toMatch(/VPC endpoints/);
    expect(err.message).toMatch(/AmazonSSMManagedInstanceCore/);
    expect(err.message).toMatch(/SSM agent/);
  });

  it('uses aws_polling delay_seconds × max_attempts as the deadline', async () => {
    const t = setup(
      planWith((p) =>
        Object.assign(p.plan.builds[0]?.config ?? {}, { aws_polling: { delay_seconds: 5, max_attempts: 12 } }),
      ),
    );
    t.ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    t.setNow('2026-01-01T00:01:00.000Z');
    await expect(t.check()).rejects.toMatchObject({
      name: 'Kiln.Timeout',
      message: expect.stringContaining('within 1 minutes'),
    });
  });

  it('fails fast with Kiln.LaunchFailed when the builder terminated', async () => {
    const t = setup();
    t.ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            {
              InstanceId: 'i-0abc',
              State: { Name: 'terminated' },
              StateReason: { Message: 'Server.SpotInstanceTermination' },
            },
          ],
        },
      ],
    });
    await expect(t.check()).rejects.toMatchObject({
      name: 'Kiln.LaunchFailed',
      message: expect.stringContaining('SpotInstanceTermination'),
    });
  });
});
