import { describe, expect, it } from 'vitest';
import { readKilnContext } from '../../infra/context.ts';

const from = (values: Record<string, unknown>) => (key: string) => values[key];

describe('readKilnContext', () => {
  it('defaults to a Kiln stack with a created VPC and no schedules', () => {
    expect(readKilnContext(from({}))).toEqual({ stackName: 'Kiln', schedules: [] });
  });

  it('reads -c strings: comma lists, JSON schedules, stack name, environment', () => {
    const context = readKilnContext(
      from({
        vpcId: 'vpc-0123456789abcdef0',
        subnetIds: 'subnet-0123456789abcdef0, subnet-0123456789abcdef1',
        account: '111122223333',
        region: 'eu-west-1',
        'kiln:stackName': 'KilnDev',
        'kiln:egressPorts': '443,80',
        'kiln:schedules':
          '[{"name":"nightly","cron":"0 3 * * ? *","template":{"bucket":"b","key":"templates/a.pkr.hcl"}}]',
      }),
    );
    expect(context).toEqual({
      stackName: 'KilnDev',
      account: '111122223333',
      region: 'eu-west-1',
      existingVpc: {
        vpcId: 'vpc-0123456789abcdef0',
        subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
      },
      egressPorts: [443, 80],
      schedules: [{ name: 'nightly', cron: '0 3 * * ? *', template: { bucket: 'b', key: 'templates/a.pkr.hcl' } }],
    });
  });

  it('reads cdk.json JSON values (arrays, objects)', () => {
    const context = readKilnContext(
      from({ vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0'], 'kiln:schedules': [] }),
    );
    expect(context.existingVpc?.subnetIds).toEqual(['subnet-0123456789abcdef0']);
  });

  it.each([
    [{ vpcId: 'vpc-0123456789abcdef0' }, /both vpcId and subnetIds/],
    [{ subnetIds: 'subnet-0123456789abcdef0' }, /both vpcId and subnetIds/],
    [{ 'kiln:egressPorts': '443,https' }, /not a port/],
    [{ 'kiln:logLevel': 'LOUD' }, /kiln:logLevel/],
    [{ 'kiln:schedules': '{"name":"x"}' }, /JSON array/],
    [{ 'kiln:schedules': [{ name: 'x', cron: 'rate(1 day)' }] }, /needs name, cron and template/],
  ])('rejects %j', (values, message) => {
    expect(() => readKilnContext(from(values))).toThrow(message);
  });
});
