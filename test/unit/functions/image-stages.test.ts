import {
  CopyImageCommand,
  CreateImageCommand,
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  EnableImageDeprecationCommand,
  type InstanceStateName,
  ModifyImageAttributeCommand,
  ModifySnapshotAttributeCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { checkImages } from '../../../functions/ec2-ami/check-images/check-images.ts';
import { createImage } from '../../../functions/ec2-ami/create-image/create-image.ts';
import { distribute } from '../../../functions/ec2-ami/distribute/distribute.ts';
import { publishImage } from '../../../functions/ec2-ami/publish-image/publish-image.ts';
import { terminateBuilder } from '../../../functions/ec2-host/terminate/terminate.ts';
import type { Ec2AmiState, ImageRecord } from '../../../functions/lib/build-state.ts';
import { clientToken } from '../../../functions/lib/tokens.ts';
import { launchedState, mocks, planWith } from './fakes.ts';

const instanceIn = (name: InstanceStateName) => ({
  Reservations: [{ Instances: [{ InstanceId: 'i-0abc', State: { Name: name } }] }],
});
const source: ImageRecord = {
  region: 'us-east-1',
  imageId: 'ami-src',
  snapshotIds: ['snap-src'],
  requestedAt: '2026-01-01T00:00:00.000Z',
  available: true,
  copy: false,
};
const withImages = (images: ImageRecord[], over: Partial<Ec2AmiState> = {}) =>
  launchedState({
    images,
    created: [
      { kind: 'instance', region: 'us-east-1', id: 'i-0abc' },
      ...images.map((i) => ({ kind: 'image' as const, region: i.region, id: i.imageId })),
    ],
    ...over,
  });

describe('createImage', () => {
  it('stops the builder first and waits while it stops', async () => {
    const t = mocks();
    t.ec2.on(DescribeInstancesCommand).resolves(instanceIn('running'));
    const out = await createImage(t.deps, { state: launchedState() });
    expect(t.ec2).toHaveReceivedCommandWith(StopInstancesCommand, { InstanceIds: ['i-0abc'] });
    expect(t.ec2).not.toHaveReceivedCommand(CreateImageCommand);
    expect(out.wait?.done).toBe(false);
    expect(out.state.stopRequestedAt).toBe('2026-01-01T00:00:00.000Z');
    // Still stopping on the next call: no second StopInstances.
    t.ec2.on(DescribeInstancesCommand).resolves(instanceIn('stopping'));
    await createImage(t.deps, out);
    expect(t.ec2).toHaveReceivedCommandTimes(StopInstancesCommand, 1);
  });

  it('creates the AMI once stopped, tags the image and its snapshots at creation, and records it before waiting', async () => {
    const t = mocks();
    t.ec2.on(DescribeInstancesCommand).resolves(instanceIn('stopped'));
    t.ec2.on(DescribeImagesCommand).resolves({ Images: [] });
    t.ec2.on(CreateImageCommand).resolves({ ImageId: 'ami-new' });
    const out = await createImage(t.deps, { state: launchedState() });
    const input = t.ec2.commandCalls(CreateImageCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      InstanceId: 'i-0abc',
      Name: 'web-ubuntu-1700000000',
      Description: 'Web base image',
      NoReboot: true,
      BlockDeviceMappings: [{ DeviceName: '/dev/sdc', NoDevice: '' }],
    });
    expect(input?.TagSpecifications?.map((s) => s.ResourceType)).toEqual(['image', 'snapshot']);
    // The snapshots of a pending AMI carry the build tag, so a failed build's cleanup may delete them.
    expect(input?.TagSpecifications?.[1]?.Tags).toEqual(
      expect.arrayContaining([{ Key: 'kiln:build-id', Value: 'kb-test' }]),
    );
    expect(input?.TagSpecifications?.[0]?.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'Team', Value: 'web' },
        { Key: 'kiln:build-id', Value: 'kb-test' },
      ]),
    );
    expect(t.ec2).toHaveReceivedCommandWith(ModifyImageAttributeCommand, {
      ImageId: 'ami-new',
      ImdsSupport: { Value: 'v2.0' },
    });
    expect(out.state.images).toEqual([
      {
        region: 'us-east-1',
        imageId: 'ami-new',
        snapshotIds: [],
        requestedAt: '2026-01-01T00:00:00.000Z',
        available: false,
        copy: false,
      },
    ]);
    expect(out.state.created.at(-1)).toEqual({ kind: 'image', region: 'us-east-1', id: 'ami-new' });
    expect(out.wait?.done).toBe(true);
  });

  it('reuses the image an interrupted try created instead of creating a second one', async () => {
    const t = mocks();
    t.ec2.on(DescribeInstancesCommand).resolves(instanceIn('stopped'));
    t.ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-earlier' }] });
    const out = await createImage(t.deps, { state: launchedState() });
    expect(t.ec2).not.toHaveReceivedCommand(CreateImageCommand);
    expect(out.state.images[0]?.imageId).toBe('ami-earlier');
  });
});

describe('skip_create_ami', () => {
  it('creates no image and distributes nothing', async () => {
    const t = mocks(planWith((p) => Object.assign(p.plan.builds[0]?.config ?? {}, { skip_create_ami: true })));
    t.ec2.on(DescribeInstancesCommand).resolves(instanceIn('stopped'));
    const created = await createImage(t.deps, { state: launchedState() });
    expect(t.ec2).not.toHaveReceivedCommand(CreateImageCommand);
    expect(created.state.images).toEqual([]);
    expect((await checkImages(t.deps, created)).wait?.done).toBe(true);
    expect((await distribute(t.deps, created)).wait?.done).toBe(true);
    expect(t.ec2).not.toHaveReceivedCommand(CopyImageCommand);
  });
});

describe('checkImages', () => {
  it('records snapshots and tags them with snapshot_tags once available', async () => {
    const t = mocks();
    t.ec2.on(DescribeImagesCommand).resolves({
      Images: [{ ImageId: 'ami-src', State: 'available', BlockDeviceMappings: [{ Ebs: { SnapshotId: 'snap-1' } }] }],
    });
    const out = await checkImages(t.deps, { state: withImages([{ ...source, snapshotIds: [], available: false }]) });
    expect(out.wait?.done).toBe(true);
    expect(out.state.images[0]).toMatchObject({ available: true, snapshotIds: ['snap-1'] });
    const tags = t.ec2.commandCalls(CreateTagsCommand)[0]?.args[0].input;
    expect(tags?.Resources).toEqual(['snap-1']);
    expect(tags?.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'Backup', Value: 'no' },
        { Key: 'kiln:build-id', Value: 'kb-test' },
      ]),
    );
  });

  it('fails with Kiln.ImageFailed carrying the StateReason', async () => {
    const t = mocks();
    t.ec2.on(DescribeImagesCommand).resolves({
      Images: [
        {
          ImageId: 'ami-src',
          State: 'failed',
          StateReason: { Code: 'Server.InternalError', Message: 'snapshot copy failed' },
        },
      ],
    });
    await expect(checkImages(t.deps, { state: withImages([{ ...source, available: false }]) })).rejects.toMatchObject({
      name: 'Kiln.ImageFailed',
      message: expect.stringContaining('snapshot copy failed'),
    });
  });

  it('times out after 60 minutes by default', async () => {
    const t = mocks();
    t.ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-src', State: 'pending' }] });
    t.setNow('2026-01-01T00:30:00.000Z');
    expect((await checkImages(t.deps, { state: withImages([{ ...source, available: false }]) })).wait).toEqual({
      done: false,
      waitSeconds: 300,
    });
    t.setNow('2026-01-01T01:00:00.000Z');
    await expect(checkImages(t.deps, { state: withImages([{ ...source, available: false }]) })).rejects.toMatchObject({
      name: 'Kiln.Timeout',
    });
  });
});

describe('distribute', () => {
  it('copies to every other region with per-region encryption and an idempotent token, recording each copy', async () => {
    const t = mocks();
    t.ec2.on(DescribeImagesCommand).resolves({ Images: [] });
    t.ec2.on(CopyImageCommand).resolvesOnce({ ImageId: 'ami-eu' }).resolvesOnce({ ImageId: 'ami-ap' });
    const out = await distribute(t.deps, { state: withImages([source]) });
    const calls = t.ec2.commandCalls(CopyImageCommand);
    expect(
      await Promise.all(
        calls.map((c) => (c.thisValue as { config: { region: () => Promise<string> } }).config.region()),
      ),
    ).toEqual(['eu-west-1', 'ap-south-1']);
    expect(calls[0]?.args[0].input).toEqual({
      SourceImageId: 'ami-src',
      SourceRegion: 'us-east-1',
      Name: 'web-ubuntu-1700000000',
      Description: 'Web base image',
      ClientToken: clientToken('copy', 'exec-1', 'kb-test', 0, 'eu-west-1'),
      Encrypted: true,
      KmsKeyId: 'alias/eu-key',
    });
    // kms_key_id is the source region's key: a region without its own region_kms_key_ids entry gets its default
    // EBS key (Packer's rule; a key ARN of another region would fail CopyImage).
    expect(calls[1]?.args[0].input).toMatchObject({ Encrypted: true });
    expect(calls[1]?.args[0].input.KmsKeyId).toBeUndefined();
    expect(out.state.images.map((i) => [i.region, i.imageId, i.copy])).toEqual([
      ['us-east-1', 'ami-src', false],
      ['eu-west-1', 'ami-eu', true],
      ['ap-south-1', 'ami-ap', true],
    ]);
    expect(out.state.created.slice(-2)).toEqual([
      { kind: 'image', region: 'eu-west-1', id: 'ami-eu' },
      { kind: 'image', region: 'ap-south-1', id: 'ami-ap' },
    ]);
    expect(t.ec2).toHaveReceivedCommandWith(CreateTagsCommand, { Resources: ['ami-eu'] });
    expect(out.wait?.done).toBe(false);
  });

  it('returns the copies made so far with the error when a later region fails', async () => {
    const t = mocks();
    t.ec2.on(DescribeImagesCommand).resolves({ Images: [] });
    t.ec2
      .on(CopyImageCommand)
      .resolvesOnce({ ImageId: 'ami-eu' })
      .rejectsOnce(Object.assign(new Error('not opted in'), { name: 'OptInRequired' }));
    const out = await distribute(t.deps, { state: withImages([source]) });
    expect(out.error).toMatchObject({
      Error: 'Kiln.DistributeFailed',
      Cause: expect.stringContaining('OptInRequired'),
    });
    expect(out.state.created.at(-1)).toEqual({ kind: 'image', region: 'eu-west-1', id: 'ami-eu' });
  });
});

describe('publishImage and terminate', () => {
  it('shares, tags copies and sets deprecation in every region', async () => {
    const t = mocks();
    const copy: ImageRecord = {
      ...source,
      region: 'eu-west-1',
      imageId: 'ami-eu',
      snapshotIds: ['snap-eu'],
      copy: true,
    };
    await publishImage(t.deps, { state: withImages([source, copy]) });
    expect(t.ec2).toHaveReceivedCommandWith(ModifyImageAttributeCommand, {
      ImageId: 'ami-eu',
      LaunchPermission: {
        Add: [
          { UserId: '111122223333' },
          { Group: 'all' },
          { OrganizationArn: 'arn:aws:organizations::111122223333:organization/o-abc' },
        ],
      },
    });
    expect(t.ec2).toHaveReceivedCommandWith(ModifySnapshotAttributeCommand, {
      SnapshotId: 'snap-src',
      Attribute: 'createVolumePermission',
      OperationType: 'add',
      UserIds: ['111122223333'],
    });
    expect(t.ec2).toHaveReceivedCommandWith(EnableImageDeprecationCommand, {
      ImageId: 'ami-src',
      DeprecateAt: new Date('2030-01-01T00:00:00Z'),
    });
    // Only the copy needs its tags here; the source image got them at CreateImage.
    expect(t.ec2.commandCalls(CreateTagsCommand).map((c) => c.args[0].input.Resources)).toEqual([['ami-eu']]);
  });

  it('terminates idempotently: an instance already gone is fine', async () => {
    const t = mocks();
    t.ec2
      .on(TerminateInstancesCommand)
      .rejects(Object.assign(new Error('gone'), { name: 'InvalidInstanceID.NotFound' }));
    const out = await terminateBuilder(t.deps, { state: launchedState() });
    expect(t.ec2).toHaveReceivedCommandWith(TerminateInstancesCommand, { InstanceIds: ['i-0abc'] });
    expect(out.wait?.done).toBe(true);
  });
});
