import {
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  type Image,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import 'aws-sdk-client-mock-vitest/extend';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it } from 'vitest';
import { ECS_AL2023_AMI_PARAMETER } from '../../../aws/docker-host.ts';
import { launchBuilder } from '../../../functions/ec2-host/launch-builder/launch-builder.ts';
import { pickImage } from '../../../functions/lib/ec2/source-image.ts';
import { clientToken } from '../../../functions/lib/tokens.ts';
import { baseState, body, mocks, planWith } from './fakes.ts';

const SOURCE: Image = { ImageId: 'ami-0123456789abcdef0', RootDeviceName: '/dev/sda1', RootDeviceType: 'ebs' };
const launch = {
  instanceProfile: 'kiln-builder',
  securityGroupId: 'sg-noingress',
  subnetIds: ['subnet-a', 'subnet-b'],
};
const DOCKER_HOST = { amiParameter: ECS_AL2023_AMI_PARAMETER, instanceType: 't3.medium', volumeGiB: 30 };

function setup(planText?: string) {
  const m = mocks(planText);
  m.ec2.on(DescribeImagesCommand, { ImageIds: ['ami-0123456789abcdef0'] }).resolves({ Images: [SOURCE] });
  m.ec2.on(DescribeImagesCommand, { Owners: ['self'] }).resolves({ Images: [] });
  m.ec2.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-0new' }] });
  return {
    ...m,
    run: () =>
      launchBuilder(
        { ...m.deps, launch, dockerHost: DOCKER_HOST, ssmFor: () => new SSMClient({}) },
        { state: baseState() },
      ),
  };
}

describe('launchBuilder', () => {
  let t: ReturnType<typeof setup>;
  beforeEach(() => {
    t = setup();
  });

  it('launches with IMDSv2, encrypted volumes, the no-ingress group, instance profile and an idempotent token', async () => {
    await t.run();
    expect(t.ec2).toHaveReceivedCommandWith(RunInstancesCommand, {
      ImageId: SOURCE.ImageId,
      InstanceType: 't3.small',
      MinCount: 1,
      MaxCount: 1,
      ClientToken: clientToken('launch', 'exec-1', 'kb-test', 0),
      MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled' },
      IamInstanceProfile: { Name: 'kiln-builder' },
      SecurityGroupIds: ['sg-noingress'],
      SubnetId: 'subnet-a',
      UserData: Buffer.from('#!/bin/bash\necho hello').toString('base64'),
      BlockDeviceMappings: [
        // The fixture's kms_key_id encrypts the root volume at launch.
        { DeviceName: '/dev/sda1', Ebs: { DeleteOnTermination: true, Encrypted: true, KmsKeyId: 'alias/default-key' } },
        {
          DeviceName: '/dev/sdb',
          Ebs: { DeleteOnTermination: true, VolumeSize: 20, VolumeType: 'gp3', Encrypted: true },
        },
      ],
    });
  });

  it('sets the IMDS hop limit from metadata_options, and IMDSv2 stays required', async () => {
    // The stage used to read a key no template has (`metadata_options_http_put_response_hop_limit`).
    const limited = setup(
      planWith((p) =>
        Object.assign(p.plan.builds[0]?.config ?? {}, {
          metadata_options: { http_tokens: 'optional', http_put_response_hop_limit: '2' },
        }),
      ),
    );
    await limited.run();
    expect(limited.ec2.commandCalls(RunInstancesCommand)[0]?.args[0].input.MetadataOptions).toEqual({
      HttpTokens: 'required',
      HttpEndpoint: 'enabled',
      HttpPutResponseHopLimit: 2,
    });
  });

  const KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const OTHER_KEY = 'arn:aws:kms:us-east-1:111122223333:key/9999abcd-12ab-34cd-56ef-1234567890ab';
  it('encrypts the root volume at launch with kms_key_id', async () => {
    const keyed = setup(
      planWith((p) => Object.assign(p.plan.builds[0]?.config ?? {}, { kms_key_id: KEY, encrypt_boot: true })),
    );
    await keyed.run();
    const input = keyed.ec2.commandCalls(RunInstancesCommand)[0]?.args[0].input;
    expect(input?.BlockDeviceMappings?.[0]).toEqual({
      DeviceName: '/dev/sda1',
      Ebs: { DeleteOnTermination: true, Encrypted: true, KmsKeyId: KEY },
    });
  });

  it("passes a launch_block_device_mappings entry's own kms_key_id, and it wins for the root device", async () => {
    const keyed = setup(
      planWith((p) =>
        Object.assign(p.plan.builds[0]?.config ?? {}, {
          kms_key_id: KEY,
          launch_block_device_mappings: [
            { device_name: '/dev/sda1', encrypted: true, kms_key_id: OTHER_KEY, volume_size: 30 },
            { device_name: '/dev/sdc', encrypted: true, kms_key_id: KEY },
          ],
        }),
      ),
    );
    await keyed.run();
    const mappings = keyed.ec2.commandCalls(RunInstancesCommand)[0]?.args[0].input.BlockDeviceMappings;
    expect(mappings).toEqual([
      {
        DeviceName: '/dev/sda1',
        Ebs: { DeleteOnTermination: true, VolumeSize: 30, Encrypted: true, KmsKeyId: OTHER_KEY },
      },
      { DeviceName: '/dev/sdc', Ebs: { DeleteOnTermination: true, Encrypted: true, KmsKeyId: KEY } },
    ]);
  });

  it('tags instance and volumes with run tags, Kiln tags and Name', async () => {
    await t.run();
    const input = t.ec2.commandCalls(RunInstancesCommand)[0]?.args[0].input;
    const [instance, volume] = input?.TagSpecifications ?? [];
    expect(instance?.ResourceType).toBe('instance');
    expect(instance?.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'Name', Value: 'web builder' },
        { Key: 'Purpose', Value: 'build' },
        { Key: 'kiln:build-id', Value: 'kb-test' },
        { Key: 'kiln:execution', Value: 'exec-1' },
        { Key: 'kiln:template', Value: 's3://templates/web/ubuntu.pkr.hcl' },
      ]),
    );
    expect(volume?.ResourceType).toBe('volume');
    expect(volume?.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'Purpose', Value: 'build-volume' },
        { Key: 'kiln:build-id', Value: 'kb-test' },
      ]),
    );
  });

  it('records the instance in the build state before anything waits on it', async () => {
    const out = await t.run();
    expect(out.state).toMatchObject({
      instanceId: 'i-0new',
      region: 'us-east-1',
      provision: { index: 0, count: 7, attempt: 0 },
    });
    expect(out.state.created).toEqual([{ kind: 'instance', region: 'us-east-1', id: 'i-0new' }]);
    expect(out.wait).toEqual({ done: false, waitSeconds: 15 });
  });

  it('fails with Kiln.AmiNameInUse when the AMI name exists and force_deregister is off', async () => {
    t.ec2.on(DescribeImagesCommand, { Owners: ['self'] }).resolves({ Images: [{ ImageId: 'ami-old' }] });
    await expect(t.run()).rejects.toMatchObject({
      name: 'Kiln.AmiNameInUse',
      message: expect.stringContaining('force_deregister'),
    });
    expect(t.ec2).not.toHaveReceivedCommand(RunInstancesCommand);
  });

  const KILN_TAG = [{ Key: 'kiln:build-id', Value: 'kb-older' }];
  function forcedSetup(opts: {
    imageTags?: typeof KILN_TAG;
    snapshotTags?: typeof KILN_TAG;
    deleteSnapshot?: boolean;
  }) {
    const forced = setup(
      planWith((p) =>
        Object.assign(p.plan.builds[0]?.config ?? {}, {
          force_deregister: true,
          force_delete_snapshot: opts.deleteSnapshot ?? true,
        }),
      ),
    );
    forced.ec2.on(DescribeImagesCommand, { Owners: ['self'] }).resolves({
      Images: [
        {
          ImageId: 'ami-old',
          BlockDeviceMappings: [{ Ebs: { SnapshotId: 'snap-old' } }],
          ...(opts.imageTags ? { Tags: opts.imageTags } : {}),
        },
      ],
    });
    forced.ec2.on(DescribeSnapshotsCommand, { SnapshotIds: ['snap-old'] }).resolves({
      Snapshots: [{ SnapshotId: 'snap-old', ...(opts.snapshotTags ? { Tags: opts.snapshotTags } : {}) }],
    });
    return forced;
  }

  it('deregisters an AMI Kiln made, and its snapshots, with force_deregister + force_delete_snapshot', async () => {
    const forced = forcedSetup({ imageTags: KILN_TAG, snapshotTags: KILN_TAG });
    const out = await forced.run();
    expect(forced.ec2).toHaveReceivedCommandWith(DeregisterImageCommand, { ImageId: 'ami-old' });
    expect(forced.ec2).toHaveReceivedCommandWith(DeleteSnapshotCommand, { SnapshotId: 'snap-old' });
    expect(out.state.notes).toEqual(['force_deregister removed ami-old']);
  });

  it('deregisters an AMI Kiln made and keeps its snapshots without force_delete_snapshot', async () => {
    const forced = forcedSetup({ imageTags: KILN_TAG, deleteSnapshot: false });
    await forced.run();
    expect(forced.ec2).toHaveReceivedCommandWith(DeregisterImageCommand, { ImageId: 'ami-old' });
    expect(forced.ec2).not.toHaveReceivedCommand(DescribeSnapshotsCommand);
    expect(forced.ec2).not.toHaveReceivedCommand(DeleteSnapshotCommand);
  });

  const foreign: [string, Parameters<typeof forcedSetup>[0], RegExp][] = [
    [
      'an AMI without Kiln tags',
      { snapshotTags: KILN_TAG },
      /ami-old\) was not created by Kiln.*deregister-image.*ami_name/,
    ],
    [
      'an AMI with other tags only',
      { imageTags: [{ Key: 'kiln:build-idx', Value: 'x' }], snapshotTags: KILN_TAG },
      /was not created by Kiln/,
    ],
    [
      'a Kiln AMI whose snapshot is not tagged',
      { imageTags: KILN_TAG },
      /snapshots snap-old .*force_delete_snapshot = false/,
    ],
  ];
  it.each(foreign)('refuses force_deregister of %s, removing nothing', async (_name, opts, message) => {
    const forced = forcedSetup(opts);
    const err = (await forced.run().catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('Kiln.AmiNameInUse');
    expect(err.message).toMatch(message);
    expect(forced.ec2).not.toHaveReceivedCommand(DeregisterImageCommand);
    expect(forced.ec2).not.toHaveReceivedCommand(DeleteSnapshotCommand);
    expect(forced.ec2).not.toHaveReceivedCommand(RunInstancesCommand);
  });

  it('resolves source_ami_filter to the most recent match', async () => {
    const filtered = setup(
      planWith((p) => {
        const c = p.plan.builds[0]?.config as Record<string, unknown>;
        delete c.source_ami;
        c.source_ami_filter = {
          filters: { name: 'ubuntu/*', 'root-device-type': 'ebs' },
          owners: ['099720109477'],
          most_recent: true,
        };
      }),
    );
    filtered.ec2.on(DescribeImagesCommand, { Owners: ['099720109477'] }).resolves({
      Images: [
        { ImageId: 'ami-older', CreationDate: '2024-01-01T00:00:00Z' },
        { ImageId: 'ami-newest', CreationDate: '2025-06-01T00:00:00Z' },
      ],
    });
    const out = await filtered.run();
    // The resolved source is the artifact's lineage in the image registry (Finalize reads it).
    expect(out.state).toMatchObject({ sourceImageId: 'ami-newest' });
    expect(filtered.ec2).toHaveReceivedCommandWith(DescribeImagesCommand, {
      Owners: ['099720109477'],
      Filters: [
        { Name: 'name', Values: ['ubuntu/*'] },
        { Name: 'root-device-type', Values: ['ebs'] },
      ],
    });
    expect(filtered.ec2).toHaveReceivedCommandWith(RunInstancesCommand, { ImageId: 'ami-newest' });
  });

  it('reads user_data_file from the staged files', async () => {
    const withFile = setup(
      planWith((p) => {
        const c = p.plan.builds[0]?.config as Record<string, unknown>;
        delete c.user_data;
        c.user_data_file = 'user-data.sh';
      }),
    );
    withFile.s3
      .on(GetObjectCommand, { Bucket: 'kiln-artifacts', Key: 'builds/kb-test/files/user-data.sh' })
      .resolves({ Body: body('#cloud-config\n') });
    await withFile.run();
    expect(withFile.ec2).toHaveReceivedCommandWith(RunInstancesCommand, {
      UserData: Buffer.from('#cloud-config\n').toString('base64'),
    });
  });

  it('refuses several filter matches without most_recent, like Packer', () => {
    expect(() => pickImage([{ ImageId: 'a' }, { ImageId: 'b' }], false)).toThrow(/most_recent/);
  });

  it('turns capacity errors into Kiln.LaunchFailed with a hint and throttling into Kiln.Transient', async () => {
    t.ec2
      .on(RunInstancesCommand)
      .rejects(Object.assign(new Error('no capacity'), { name: 'InsufficientInstanceCapacity' }));
    await expect(t.run()).rejects.toMatchObject({
      name: 'Kiln.LaunchFailed',
      message: expect.stringContaining('another instance_type'),
    });
    t.ec2.on(RunInstancesCommand).rejects(Object.assign(new Error('slow down'), { name: 'RequestLimitExceeded' }));
    await expect(t.run()).rejects.toMatchObject({ name: 'Kiln.Transient', retryable: true });
  });
});
