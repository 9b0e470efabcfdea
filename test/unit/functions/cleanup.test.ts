import {
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { DeleteObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { GetCommandInvocationCommand, ListCommandsCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { causeMessage, cleanupBuild } from '../../../functions/common/cleanup/cleanup.ts';
import { commonCleanup } from '../../../functions/common/cleanup/common-entries.ts';
import { CLEANUP_CONTRIBUTIONS, CLEANUP_TABLE } from '../../../functions/common/cleanup/table.ts';
import { ec2HostCleanup } from '../../../functions/ec2-host/cleanup-entries.ts';
import { type BuildState, CREATED_KINDS, type CreatedResource } from '../../../functions/lib/build-state.ts';
import type { CleanupHandler, CleanupTable } from '../../../functions/lib/cleanup-table.ts';
import { body, launchedState, mocks, PLAN_KEY, planWith } from './fakes.ts';

const state = launchedState({
  images: [
    {
      region: 'us-east-1',
      imageId: 'ami-src',
      snapshotIds: ['snap-src'],
      requestedAt: 't',
      available: true,
      copy: false,
    },
    { region: 'eu-west-1', imageId: 'ami-eu', snapshotIds: [], requestedAt: 't', available: false, copy: true },
  ],
  created: [
    { kind: 'instance', region: 'us-east-1', id: 'i-0abc' },
    { kind: 'image', region: 'us-east-1', id: 'ami-src' },
    { kind: 'image', region: 'eu-west-1', id: 'ami-eu' },
    { kind: 's3-object', bucket: 'kiln-artifacts', key: 'builds/kb-test/downloads/0/x' },
  ],
});
const error = {
  Error: 'Kiln.ProvisionerFailed',
  Cause: JSON.stringify({
    errorType: 'Kiln.ProvisionerFailed',
    errorMessage: 'exit code 3: token hunter2-secret',
    trace: [],
  }),
};

function setup() {
  const t = mocks();
  t.ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
  t.ec2.on(DescribeImagesCommand, { Owners: ['self'] }).resolves({ Images: [] });
  t.ec2
    .on(DescribeImagesCommand, { ImageIds: ['ami-eu'] })
    .resolves({ Images: [{ ImageId: 'ami-eu', BlockDeviceMappings: [{ Ebs: { SnapshotId: 'snap-eu' } }] }] });
  t.ec2.on(DescribeImagesCommand, { ImageIds: ['ami-src'] }).resolves({ Images: [] });
  return t;
}

describe('cleanupBuild', () => {
  it('removes everything in reverse order of creation and reports each step', async () => {
    const t = setup();
    const result = await cleanupBuild(t.deps, { state, error });
    expect(result.cleanup.steps.map((s) => [s.action, s.target, s.outcome])).toEqual([
      ['delete-object', 's3://kiln-artifacts/builds/kb-test/downloads/0/x', 'removed'],
      ['deregister-image', 'ami-eu', 'removed'],
      ['delete-snapshot', 'snap-eu', 'removed'],
      ['deregister-image', 'ami-src', 'removed'],
      ['delete-snapshot', 'snap-src', 'removed'],
      ['terminate-instance', 'i-0abc', 'removed'],
    ]);
    expect(result.cleanup.complete).toBe(true);
    expect(t.s3).toHaveReceivedCommandWith(DeleteObjectCommand, {
      Bucket: 'kiln-artifacts',
      Key: 'builds/kb-test/downloads/0/x',
    });
  });

  it('returns the failed build result with the Lambda error message, secrets redacted', async () => {
    const result = await cleanupBuild(setup().deps, { state, error });
    expect(result).toMatchObject({
      name: 'amazon-ebs.ubuntu',
      index: 0,
      status: 'FAILED',
      error: 'Kiln.ProvisionerFailed',
      cause: 'exit code 3: token <sensitive>',
    });
  });

  it('treats NotFound as already gone and keeps going after a real failure', async () => {
    const t = setup();
    t.ec2
      .on(DeregisterImageCommand, { ImageId: 'ami-eu' })
      .rejects(Object.assign(new Error('x'), { name: 'InvalidAMIID.NotFound' }));
    t.ec2
      .on(DeleteSnapshotCommand, { SnapshotId: 'snap-src' })
      .rejects(Object.assign(new Error('in use'), { name: 'InvalidSnapshot.InUse' }));
    const result = await cleanupBuild(t.deps, { state, error });
    const outcome = Object.fromEntries(result.cleanup.steps.map((s) => [s.target, s.outcome]));
    expect(outcome).toMatchObject({ 'ami-eu': 'already-gone', 'snap-src': 'failed', 'i-0abc': 'removed' });
    expect(result.cleanup.complete).toBe(false);
    expect(t.ec2).toHaveReceivedCommandWith(TerminateInstancesCommand, { InstanceIds: ['i-0abc'] });
  });

  it('is idempotent: a second run reports everything as already gone', async () => {
    const t = setup();
    const gone = (name: string) => Object.assign(new Error('gone'), { name });
    t.ec2.on(DeregisterImageCommand).rejects(gone('InvalidAMIID.Unavailable'));
    t.ec2.on(DeleteSnapshotCommand).rejects(gone('InvalidSnapshot.NotFound'));
    t.ec2.on(TerminateInstancesCommand).rejects(gone('InvalidInstanceID.NotFound'));
    t.s3.on(DeleteObjectCommand).rejects(gone('NoSuchKey'));
    const result = await cleanupBuild(t.deps, { state, error });
    expect(new Set(result.cleanup.steps.map((s) => s.outcome))).toEqual(new Set(['already-gone']));
    expect(result.cleanup.complete).toBe(true);
  });

  it('finds an instance a crashed LaunchBuilder created but never recorded, by its build tags', async () => {
    const t = setup();
    t.ec2.on(DescribeInstancesCommand).callsFake(async (_input, getClient) => {
      const region = await getClient().config.region();
      return {
        Reservations:
          region === 'us-east-1' ? [{ Instances: [{ InstanceId: 'i-orphan', State: { Name: 'running' } }] }] : [],
      };
    });
    const result = await cleanupBuild(t.deps, { state: launchedState({ instanceId: undefined, created: [] }), error });
    expect(t.ec2).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: [
        { Name: 'tag:kiln:build-id', Values: ['kb-test'] },
        { Name: 'tag:kiln:build-index', Values: ['0'] },
      ],
    });
    expect(result.cleanup.steps).toEqual([
      { action: 'terminate-instance', target: 'i-orphan', region: 'us-east-1', outcome: 'removed' },
    ]);
  });

  it('runs the error-cleanup-provisioner on the builder before removing anything', async () => {
    const t = setup();
    const plan = planWith((p) => {
      Object.assign(p.plan.builds[0] ?? {}, {
        errorCleanupProvisioner: {
          index: 0,
          type: 'shell',
          maxRetries: 0,
          files: [],
          config: { inline: ['journalctl > /tmp/log'] },
        },
      });
    });
    t.s3.on(GetObjectCommand, { Key: PLAN_KEY }).resolves({ Body: body(plan) });
    t.ssm.on(ListCommandsCommand).resolves({ Commands: [] });
    t.ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-ec' } });
    t.ssm
      .on(GetCommandInvocationCommand)
      .resolvesOnce({ Status: 'InProgress' })
      .resolves({ Status: 'Success', ResponseCode: 0 });
    const result = await cleanupBuild(
      {
        ...t.deps,
        ssmFor: () => t.ssmClient,
        presign: async () => 'https://u',
        sleep: async () => undefined,
        waitSeconds: 60,
      },
      { state, error },
    );
    expect(result.cleanup.steps[0]).toEqual({ action: 'error-cleanup-provisioner', target: 'cmd-ec', outcome: 'ran' });
    expect(t.ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      InstanceIds: ['i-0abc'],
      Comment: 'kiln kb-test b0 error-cleanup',
    });
    expect(result.cleanup.steps.at(-1)?.action).toBe('terminate-instance');
  });

  it('reads the message out of a Lambda error Cause, or keeps a plain cause', () => {
    expect(causeMessage('{"errorType":"X","errorMessage":"boom"}')).toBe('boom');
    expect(causeMessage('plain words')).toBe('plain words');
    expect(causeMessage(undefined)).toBe('');
  });
});

describe('the cleanup table', () => {
  it('has a handler for every created-resource kind the build state schema lists', () => {
    // The list is read from the schema (a kind added there is checked here with no test edit).
    expect(CREATED_KINDS).toEqual(expect.arrayContaining(['instance', 'image', 's3-object']));
    for (const kind of CREATED_KINDS) expect(typeof CLEANUP_TABLE[kind]?.remove, kind).toBe('function');
    expect(Object.keys(CLEANUP_TABLE).sort()).toEqual([...CREATED_KINDS].sort());
  });

  it('is composed of each driver group’s entries, no kind claimed twice', () => {
    const claims = Object.entries(CLEANUP_CONTRIBUTIONS).flatMap(([group, entries]) =>
      Object.keys(entries).map((kind) => ({ kind, group })),
    );
    const kinds = claims.map((c) => c.kind);
    expect(kinds.filter((k, i) => kinds.indexOf(k) !== i)).toEqual([]);
    expect([...kinds].sort()).toEqual([...CREATED_KINDS].sort());
    // Each in the group whose stages create it.
    expect(claims).toEqual(
      expect.arrayContaining([
        { kind: 'image', group: 'ec2-ami' },
        { kind: 'instance', group: 'ec2-host' },
        { kind: 's3-object', group: 'common' },
      ]),
    );
  });

  it('does not compile without a handler for a kind', () => {
    // @ts-expect-error: 'image' has no handler (the ec2-ami group's entries are left out)
    const incomplete: CleanupTable = { ...commonCleanup, ...ec2HostCleanup };
    expect(Object.keys(incomplete)).not.toContain('image');
  });

  it('dispatches each resource, recorded or swept, to the handler of its kind, in reverse order', async () => {
    const t = setup();
    const seen: string[] = [];
    const handler = <R extends CreatedResource>(name: (r: R) => string, swept: R[] = []): CleanupHandler<R> => ({
      remove: async (_run, r) => {
        seen.push(`${r.kind} ${name(r)}`);
      },
      sweep: async (_run, region) => (region === 'us-east-1' ? swept : []),
    });
    const table: CleanupTable = {
      instance: handler((r) => r.id),
      image: handler((r) => r.id, [{ kind: 'image', region: 'us-east-1', id: 'ami-orphan' }]),
      's3-object': handler((r) => r.key),
      'docker-containers': handler((r) => r.instanceId),
      'ecr-image': handler((r) => r.tag),
    };
    const result = await cleanupBuild(t.deps, { state, error }, table);
    expect(seen).toEqual([
      'image ami-orphan',
      's3-object builds/kb-test/downloads/0/x',
      'image ami-eu',
      'image ami-src',
      'instance i-0abc',
    ]);
    // Nothing else touched AWS: the handlers are the only removal path.
    expect(t.ec2).not.toHaveReceivedCommand(TerminateInstancesCommand);
    expect(t.ec2).not.toHaveReceivedCommand(DescribeInstancesCommand);
    expect(result.cleanup).toEqual({ steps: [], complete: true });
  });

  it('cleans up a docker build’s instance and an agent build’s objects with the same table', async () => {
    const t = setup();
    const host = { region: 'us-east-1', instanceId: 'i-0dkr' };
    const core = { buildId: 'kb-test', executionName: 'exec-1', planKey: PLAN_KEY, index: 0, name: 'd' };
    const docker: BuildState = {
      ...core,
      driver: 'ec2-docker',
      ...host,
      pushed: [],
      created: [{ kind: 'instance', region: 'us-east-1', id: 'i-0dkr' }],
    };
    const agent: BuildState = {
      ...core,
      driver: 'agent',
      created: [{ kind: 's3-object', bucket: 'kiln-artifacts', key: 'builds/kb-test/downloads/0/y' }],
    };
    expect((await cleanupBuild(t.deps, { state: docker, error })).cleanup.steps).toEqual([
      { action: 'terminate-instance', target: 'i-0dkr', region: 'us-east-1', outcome: 'removed' },
    ]);
    expect((await cleanupBuild(t.deps, { state: agent, error })).cleanup.steps).toEqual([
      { action: 'delete-object', target: 's3://kiln-artifacts/builds/kb-test/downloads/0/y', outcome: 'removed' },
    ]);
  });
});
