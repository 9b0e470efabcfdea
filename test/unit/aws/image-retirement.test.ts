/**
 * Image retirement (aws/image-retirement.ts) over mocked EC2 and ECR: what is already gone counts as done, the
 * container image is deleted by digest only in a `kiln:managed=true` repository, an ECR failure other than
 * "not found" is an error; and the lifecycle run (functions/common/lifecycle) goes on past one artifact's failure,
 * records nothing for it, and reports it as LifecycleIncomplete.
 */

import { DynamoDBClient, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  EC2Client,
  EnableImageDeprecationCommand,
} from '@aws-sdk/client-ec2';
import {
  BatchDeleteImageCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { artifactItem, channelItem } from '../../../aws/image-registry-records.ts';
import { deleteImages, deprecateImages, ecrRepositoryOf } from '../../../aws/image-retirement.ts';
import { assertComplete, runLifecycle } from '../../../functions/common/lifecycle/lifecycle.ts';
import { amiArtifact, imageArtifact } from '../image-registry/fixtures.ts';

const ec2 = mockClient(EC2Client);
const ecr = mockClient(ECRClient);
const dynamo = mockClient(DynamoDBClient);
const clients = {
  ec2: () => new EC2Client({ region: 'us-east-1' }),
  ecr: () => new ECRClient({ region: 'us-east-1' }),
};
const awsError = (name: string) => Object.assign(new Error(name), { name });

beforeEach(() => {
  ec2.reset();
  ecr.reset();
  dynamo.reset();
});

describe('AMIs', () => {
  it('deprecates every region, an image already gone counting as done', async () => {
    const a = amiArtifact({
      images: [
        ['us-east-1', 'ami-0000aa01'],
        ['eu-west-1', 'ami-0000aa02'],
      ],
    });
    ec2.on(EnableImageDeprecationCommand, { ImageId: 'ami-0000aa02' }).rejects(awsError('InvalidAMIID.NotFound'));
    ec2.on(EnableImageDeprecationCommand, { ImageId: 'ami-0000aa01' }).resolves({ Return: true });
    const at = new Date('2026-06-01T00:00:00Z');
    expect(await deprecateImages(clients, a, at)).toEqual([
      { region: 'us-east-1', id: 'ami-0000aa01', outcome: 'deprecated' },
      { region: 'eu-west-1', id: 'ami-0000aa02', outcome: 'gone' },
    ]);
    expect(ec2).toHaveReceivedCommandWith(EnableImageDeprecationCommand, { ImageId: 'ami-0000aa01', DeprecateAt: at });
  });

  it('deregisters, then deletes the recorded and the mapped snapshots; a refusal other than gone is an error', async () => {
    const a = amiArtifact({ images: [['us-east-1', 'ami-0000bb01']] });
    const recorded = a.content.kind === 'ami' ? (a.content.images[0]?.snapshotIds[0] ?? '') : '';
    ec2.on(DescribeImagesCommand).resolves({
      Images: [{ BlockDeviceMappings: [{ Ebs: { SnapshotId: 'snap-0000cc02' } }] }],
    });
    ec2.on(DeregisterImageCommand).resolves({});
    ec2.on(DeleteSnapshotCommand, { SnapshotId: recorded }).rejects(awsError('InvalidSnapshot.NotFound'));
    ec2.on(DeleteSnapshotCommand, { SnapshotId: 'snap-0000cc02' }).resolves({});
    expect(await deleteImages(clients, a)).toEqual([
      { region: 'us-east-1', id: 'ami-0000bb01', outcome: 'deregistered' },
      { region: 'us-east-1', id: recorded, outcome: 'gone' },
      { region: 'us-east-1', id: 'snap-0000cc02', outcome: 'deleted' },
    ]);
    ec2.on(DeleteSnapshotCommand, { SnapshotId: 'snap-0000cc02' }).rejects(awsError('InvalidSnapshot.InUse'));
    await expect(deleteImages(clients, a)).rejects.toThrow('InvalidSnapshot.InUse');
  });
});

describe('container images', () => {
  const repoArn = 'arn:aws:ecr:us-east-1:111122223333:repository/app';
  it('reads the repository from an ECR image URI', () => {
    expect(ecrRepositoryOf('111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app:1.2')).toEqual({
      account: '111122223333',
      region: 'us-east-1',
      name: 'team/app',
    });
    expect(ecrRepositoryOf('docker.io/library/python:3.9')).toBeUndefined();
  });

  it('deletes by digest only in a Kiln-managed repository', async () => {
    const a = imageArtifact();
    const digest = a.content.kind === 'container-image' ? a.content.digest : '';
    ecr.on(DescribeRepositoriesCommand).resolves({ repositories: [{ repositoryArn: repoArn }] });
    ecr.on(ListTagsForResourceCommand).resolves({ tags: [{ Key: 'kiln:managed', Value: 'true' }] });
    ecr.on(BatchDeleteImageCommand).resolves({ imageIds: [{ imageDigest: digest }], failures: [] });
    expect(await deleteImages(clients, a)).toEqual([{ region: 'us-east-1', id: `app@${digest}`, outcome: 'deleted' }]);
    expect(ecr).toHaveReceivedCommandWith(BatchDeleteImageCommand, {
      registryId: '111122223333',
      repositoryName: 'app',
      imageIds: [{ imageDigest: digest }],
    });

    ecr.reset();
    ecr.on(DescribeRepositoriesCommand).resolves({ repositories: [{ repositoryArn: repoArn }] });
    ecr.on(ListTagsForResourceCommand).resolves({ tags: [] });
    const [left] = await deleteImages(clients, a);
    expect(left).toMatchObject({ outcome: 'left', note: expect.stringContaining('no kiln:managed=true tag') });
    expect(ecr).not.toHaveReceivedCommand(BatchDeleteImageCommand);
  });

  it('an image already deleted is done; another failure is an error', async () => {
    const a = imageArtifact();
    ecr.on(DescribeRepositoriesCommand).resolves({ repositories: [{ repositoryArn: repoArn }] });
    ecr.on(ListTagsForResourceCommand).resolves({ tags: [{ Key: 'kiln:managed', Value: 'true' }] });
    ecr.on(BatchDeleteImageCommand).resolves({ failures: [{ failureCode: 'ImageNotFound' }] });
    expect((await deleteImages(clients, a))[0]?.outcome).toBe('gone');
    ecr
      .on(BatchDeleteImageCommand)
      .resolves({ failures: [{ failureCode: 'KmsError', failureReason: 'key disabled' }] });
    await expect(deleteImages(clients, a)).rejects.toThrow(/KmsError key disabled/);
  });
});

describe('runLifecycle', () => {
  it('goes on past an artifact that fails, records nothing for it, and reports it', async () => {
    const [a1, a2, a3] = [amiArtifact(), amiArtifact(), amiArtifact()];
    const latest = {
      template: 'web',
      build: 'amazon-ebs.base',
      channel: 'latest',
      version: 1,
      current: a3?.artifactId ?? '',
      previous: [],
    };
    dynamo.on(ScanCommand).resolves({
      Items: [...[a1, a2, a3].map((a) => artifactItem(a as never)), channelItem(latest)],
    });
    dynamo.on(UpdateItemCommand).resolves({});
    const failing = a1?.content.kind === 'ami' ? a1.content.images[0]?.imageId : '';
    ec2.on(EnableImageDeprecationCommand).resolves({ Return: true });
    ec2.on(EnableImageDeprecationCommand, { ImageId: failing }).rejects(awsError('UnauthorizedOperation'));
    const report = await runLifecycle({
      registry: {
        dynamo: new DynamoDBClient({ region: 'us-east-1' }),
        table: 't',
        ssm: () => ({}) as never,
        homeRegion: 'us-east-1',
      },
      images: clients,
      policy: { keepPerBuild: 1, graceDays: 7, rollbackProtection: 0 },
      now: () => new Date('2026-06-01T00:00:00Z'),
    });
    expect(report.deprecated).toEqual([a2?.artifactId]);
    expect(report.failures).toEqual([
      { artifactId: a1?.artifactId, error: expect.stringMatching(/^UnauthorizedOperation/) },
    ]);
    // Only the one that succeeded was recorded.
    expect(dynamo).toHaveReceivedCommandTimes(UpdateItemCommand, 1);
    expect(() => assertComplete(report)).toThrow(
      /lifecycle could not finish 1 artifact\(s\), the next run tries again/,
    );
  });
});
