import { describe, expect, it } from 'vitest';
import { readKilnContext } from '../../infra/context.ts';

const from = (values: Record<string, unknown>) => (key: string) => values[key];

describe('readKilnContext', () => {
  it('defaults to a Kiln stack with a created VPC and no schedules', () => {
    expect(readKilnContext(from({}))).toEqual({ stackName: 'Kiln', schedules: [] });
  });

  it('reads the fleet bound from kiln:fleet* (numbers; the stack checks the bounds) and refuses a non-number', () => {
    expect(readKilnContext(from({ 'kiln:fleetMaxConcurrentBuilds': '50', 'kiln:fleetWaitSeconds': 30 })).fleet).toEqual(
      {
        maxConcurrentBuilds: 50,
        waitSeconds: 30,
      },
    );
    expect(() => readKilnContext(from({ 'kiln:fleetMaxWaitSeconds': 'long' }))).toThrow(
      'context kiln:fleetMaxWaitSeconds must be a number, got "long"',
    );
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
          '[{"name":"nightly","cron":"0 3 * * ? *","template":{"bucket":"b","key":"templates/a.pkr.hcl"},"onlyIfChanged":true}]',
        'kiln:scheduleFailureLimit': '5',
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
      schedules: [
        {
          name: 'nightly',
          cron: '0 3 * * ? *',
          template: { bucket: 'b', key: 'templates/a.pkr.hcl' },
          onlyIfChanged: true,
        },
      ],
      scheduleFailureLimit: 5,
    });
  });

  it('reads the registries base image digests are read from: a list, or none', () => {
    expect(readKilnContext(from({ 'kiln:digestRegistries': 'docker.io, ghcr.io' })).digestRegistries).toEqual([
      'docker.io',
      'ghcr.io',
    ]);
    expect(readKilnContext(from({ 'kiln:digestRegistries': 'none' })).digestRegistries).toEqual([]);
    expect(readKilnContext(from({})).digestRegistries).toBeUndefined();
  });

  it('reads KMS keys and private endpoint options', () => {
    const key = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(
      readKilnContext(
        from({
          'kiln:kmsKeyArns': `${key}, ${key.replace('eu-west-1', 'us-east-1')}`,
          'kiln:privateEndpoints': 'true',
          'kiln:routeTableIds': ['rtb-0123456789abcdef0'],
          'kiln:endpointsKms': true,
        }),
      ),
    ).toMatchObject({
      kmsKeyArns: [key, key.replace('eu-west-1', 'us-east-1')],
      privateEndpoints: { routeTableIds: ['rtb-0123456789abcdef0'], kms: true },
    });
    expect(readKilnContext(from({ 'kiln:privateEndpoints': false })).privateEndpoints).toBeUndefined();
  });

  it.each([
    [{ 'kiln:routeTableIds': 'rtb-0123456789abcdef0' }, /need kiln:privateEndpoints=true/],
    [{ 'kiln:endpointsKms': 'true' }, /need kiln:privateEndpoints=true/],
    [{ 'kiln:privateEndpoints': 'yes' }, /must be true or false/],
  ])('rejects inconsistent endpoint context %#', (values, message) => {
    expect(() => readKilnContext(from(values))).toThrow(message);
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
    [{ 'kiln:scheduleFailureLimit': '0' }, /kiln:scheduleFailureLimit must be a whole number of at least 1, got "0"/],
    [{ 'kiln:schedules': '{"name":"x"}' }, /JSON array/],
    [{ 'kiln:schedules': [{ name: 'x', cron: 'rate(1 day)' }] }, /needs name, cron and template/],
  ])('rejects %j', (values, message) => {
    expect(() => readKilnContext(from(values))).toThrow(message);
  });
});
