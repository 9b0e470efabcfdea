/**
 * The build state as a union on `driver`: what each variant keeps, the narrowing helpers, stages refusing a
 * build of another driver, and the fields the ASL reads by JSONPath (`$.state.*`) existing where it reads them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { createImage } from '../../../functions/ec2-ami/create-image/create-image.ts';
import { checkManaged } from '../../../functions/ec2-host/check-managed/check-managed.ts';
import {
  type BuildState,
  buildStateSchema,
  type CoreFields,
  driverSchema,
  type Ec2DockerState,
  initialState,
  provisionStateSchema,
  requireDriver,
  requireEc2Host,
  stagePayloadSchema,
} from '../../../functions/lib/build-state.ts';
import { parseEvent } from '../../../functions/lib/wiring.ts';
import { launchedState, mocks, PLAN_KEY } from './fakes.ts';

const core: CoreFields = { buildId: 'kb-test', executionName: 'exec-1', planKey: PLAN_KEY, index: 0, name: 'b' };
const parse = (state: unknown) => parseEvent(stagePayloadSchema, { state }).state;
const host = {
  region: 'us-east-1',
  instanceId: 'i-0abc',
  launchedAt: '2026-01-01T00:00:00.000Z',
  provision: { index: 0, count: 1, attempt: 0 },
};
const ami = { images: [], stopRequestedAt: '2026-01-01T00:05:00.000Z' };

describe('build state per driver', () => {
  it.each(driverSchema.options)('%s: the initial state PrepareBuild makes is what the stages parse', (driver) => {
    const state = initialState(core, driver);
    expect(state.driver).toBe(driver);
    expect(parse(state)).toEqual(state);
  });

  it('only ec2-ami carries images; the AMI fields of another driver are not kept', () => {
    expect(initialState(core, 'ec2-ami')).toHaveProperty('images', []);
    expect(initialState(core, 'ec2-docker')).not.toHaveProperty('images');
    const docker = parse({ ...core, driver: 'ec2-docker', created: [], ...host, ...ami });
    expect(docker).toEqual({ ...core, driver: 'ec2-docker', created: [], pushed: [], ...host });
    expect(initialState(core, 'ec2-docker')).toHaveProperty('pushed', []);
  });

  it('agent has the core only (no builder host)', () => {
    const agent = parse({ ...core, driver: 'agent', created: [], ...host, ...ami, notes: ['n'] });
    expect(agent).toEqual({ ...core, driver: 'agent', created: [], notes: ['n'] });
  });

  it('refuses an unknown driver as invalid input', () => {
    expect(() => parse({ ...core, driver: 'ec2-vm', created: [] })).toThrow(/^The function input is not valid: /);
  });

  it('narrows with requireDriver and requireEc2Host, naming the build and both drivers', () => {
    const amiState = launchedState();
    expect(requireDriver(amiState, 'ec2-ami').images).toEqual([]);
    const docker: BuildState = { ...core, driver: 'ec2-docker', created: [], pushed: [], ...host };
    expect(() => requireDriver(docker, 'ec2-ami')).toThrow(
      'build b: this stage is for the ec2-ami driver, not ec2-docker',
    );
    expect(requireEc2Host(docker).instanceId).toBe('i-0abc');
    expect(() => requireEc2Host(initialState(core, 'agent'))).toThrow(
      'build b: this stage needs an EC2 builder host, and the agent driver has none',
    );
    // @ts-expect-error: the docker driver has no images (a compile error, not an undefined at run time)
    expect((docker as Ec2DockerState).images).toBeUndefined();
  });

  it('an ec2-ami stage refuses a docker build, an ec2-host stage an agent build, before any AWS call', async () => {
    const t = mocks();
    const docker: BuildState = { ...core, driver: 'ec2-docker', created: [], pushed: [], ...host };
    await expect(createImage(t.deps, { state: docker })).rejects.toThrow('is for the ec2-ami driver, not ec2-docker');
    await expect(
      checkManaged({ ...t.deps, ssmFor: () => t.ssmClient }, { state: initialState(core, 'agent') }),
    ).rejects.toThrow('needs an EC2 builder host');
    expect(t.ec2).not.toHaveReceivedCommand(DescribeInstancesCommand);
  });
});

describe('the fields the ASL reads exist where it reads them', () => {
  const DIR = new URL('../../../statemachines/', import.meta.url).pathname;
  const statePaths = (file: string) => [
    ...new Set([...readFileSync(file, 'utf8').matchAll(/\$\.state\.([A-Za-z0-9_.]+)/g)].map((m) => m[1] as string)),
  ];
  const variant = (driver: string) => {
    const option = buildStateSchema.def.options.find((o) => o.shape.driver.def.values.includes(driver as never));
    if (!option) throw new Error(`no build state variant for driver ${driver}`);
    return option.shape as Record<string, unknown>;
  };
  const NESTED: Record<string, Record<string, unknown>> = { provision: provisionStateSchema.shape };
  const missing = (path: string, shape: Record<string, unknown>) => {
    const [top, sub] = path.split('.');
    if (!top || !(top in shape)) return true;
    return sub !== undefined && !(sub in (NESTED[top] ?? {}));
  };

  it('the parent reads only fields every driver has', () => {
    const paths = statePaths(join(DIR, 'build.asl.json'));
    expect(paths).toEqual(expect.arrayContaining(['driver', 'name', 'index']));
    for (const driver of driverSchema.options) {
      expect(
        paths.filter((p) => missing(p, variant(driver))),
        driver,
      ).toEqual([]);
    }
  });

  const drivers = readdirSync(join(DIR, 'drivers')).filter((f) => f.endsWith('.asl.json'));
  it.each(drivers)('drivers/%s reads only fields of its driver', (file) => {
    const driver = basename(file, '.asl.json');
    const paths = statePaths(join(DIR, 'drivers', file));
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.filter((p) => missing(p, variant(driver)))).toEqual([]);
  });

  it('would notice a path to a field the driver does not have', () => {
    expect(missing('images', variant('ec2-docker'))).toBe(true);
    expect(missing('provision.cursor', variant('ec2-ami'))).toBe(true);
    expect(missing('provision.commandId', variant('ec2-ami'))).toBe(false);
  });
});
