/**
 * The Lifecycle function as deployed: the synthesized stack in moto, the function's real bundle run by the harness
 * with its own role (IAM enforced), invoked with EventBridge's scheduled event as its rule would. Artifacts are made
 * directly (an AMI per artifact made by CreateImage in us-east-1 and copied to eu-west-1, as Distribute does, each
 * image and snapshot tagged with the build id; the registry records written with the store), then three runs:
 * the first deprecates what is beyond the newest N and off every channel, the second (grace 0) deregisters those
 * AMIs and deletes their snapshots in both regions, the third changes nothing. Channel members and the nearest
 * rollback target keep their images everywhere. Every AWS call the function's role made is replayed against its
 * deployed policy, conditions included.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CopyImageCommand,
  CreateImageCommand,
  CreateTagsCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateRepositoryCommand,
  DescribeImagesCommand as DescribeImagesCommand_ECR,
  ECRClient,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getArtifact, promoteChannel, putArtifact, type RegistryContext } from '../../aws/image-registry-store.ts';
import { TAG_BUILD_ID, TAG_MANAGED, TAG_MANAGED_VALUE } from '../../aws/tags.ts';
import { type Artifact, artifactIdFor } from '../../core/image-registry/artifact.ts';
import { KILN_ENV } from '../../functions/registry.ts';
import { localClientConfig } from '../../harness/clients.ts';
import { formatDenials, type IamGuard } from '../../harness/iam-guard.ts';
import { type KilnLocal, startKilnLocal } from '../../harness/kiln-local.ts';

const HOME = 'us-east-1';
const COPY = 'eu-west-1';
const TEMPLATE = 'web';
const BUILD = 'amazon-ebs.base';

interface Made {
  artifact: Artifact;
  images: { region: string; imageId: string; snapshotId: string }[];
}

describe('the Lifecycle function in the local stack', () => {
  let kiln: KilnLocal;
  let registry: RegistryContext;
  const ec2 = (region: string) => new EC2Client(localClientConfig(kiln.aws.endpoint, region));
  const made: Made[] = [];

  beforeAll(async () => {
    kiln = await startKilnLocal({
      // Keep 2 per build, delete on the run after deprecation, protect one rollback target per channel.
      handlerEnvOverrides: {
        [KILN_ENV.lifecycleKeep]: '2',
        [KILN_ENV.lifecycleGraceDays]: '0',
        [KILN_ENV.lifecycleRollbackProtection]: '1',
      },
    });
    const dynamo = new DynamoDBClient(localClientConfig(kiln.aws.endpoint, HOME));
    registry = {
      dynamo,
      table: kiln.deployment.outputs.RegistryTableName ?? '',
      ssm: () => {
        throw new Error('the test publishes no parameter through this context');
      },
      homeRegion: HOME,
    };
    // A cold synthesis takes 1-2 min; a cached one is milliseconds.
  }, 300_000);
  afterAll(async () => {
    await kiln?.stop();
  });

  /** One artifact: an AMI in each region (a CreateImage and its copy), tagged as the pipeline tags them. */
  async function makeArtifact(index: number): Promise<Made> {
    const buildId = `b-lifecycle-${index}`;
    const home = ec2(HOME);
    const source = (await home.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.[0]?.ImageId;
    const run = await home.send(
      new RunInstancesCommand({ ImageId: source, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' }),
    );
    const tags = [{ Key: TAG_BUILD_ID, Value: buildId }];
    const created = await home.send(
      new CreateImageCommand({
        InstanceId: run.Instances?.[0]?.InstanceId,
        Name: `lifecycle-${index}`,
        TagSpecifications: [
          { ResourceType: 'image', Tags: tags },
          { ResourceType: 'snapshot', Tags: tags },
        ],
      }),
    );
    const copied = await ec2(COPY).send(
      new CopyImageCommand({ SourceImageId: created.ImageId, SourceRegion: HOME, Name: `lifecycle-${index}` }),
    );
    const images: Made['images'] = [];
    for (const [region, imageId] of [
      [HOME, created.ImageId ?? ''],
      [COPY, copied.ImageId ?? ''],
    ] as const) {
      const image = (await ec2(region).send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images?.[0];
      const snapshotId = image?.BlockDeviceMappings?.[0]?.Ebs?.SnapshotId ?? '';
      await ec2(region).send(new CreateTagsCommand({ Resources: [imageId, snapshotId], Tags: tags }));
      images.push({ region, imageId, snapshotId });
    }
    const artifact: Artifact = {
      artifactId: artifactIdFor(buildId, BUILD),
      template: TEMPLATE,
      build: BUILD,
      buildId,
      createdAt: new Date(Date.UTC(2026, 10, index)).toISOString(),
      content: {
        kind: 'ami',
        images: images.map((i) => ({ region: i.region, imageId: i.imageId, snapshotIds: [i.snapshotId] })),
      },
    };
    await putArtifact(registry, artifact);
    return { artifact, images };
  }

  async function runLifecycle() {
    const lambda = new LambdaClient(localClientConfig(kiln.aws.endpoint, HOME));
    const name = kiln.deployment.resources.find((r) => r.logicalId.startsWith('PipelineLifecycleFunction'))?.physicalId;
    expect(name).toBeDefined();
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: name,
        Payload: JSON.stringify({
          version: '0',
          id: 'e-1',
          'detail-type': 'Scheduled Event',
          source: 'aws.events',
          account: '123456789012',
          time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
          region: HOME,
          resources: ['arn:aws:events:us-east-1:123456789012:rule/lifecycle'],
          detail: {},
        }),
      }),
    );
    const body = JSON.parse(Buffer.from(out.Payload ?? []).toString('utf8'));
    expect(out.FunctionError, JSON.stringify(body)).toBeUndefined();
    return body as { deprecated: string[]; retired: string[]; kept: Record<string, number>; failures: unknown[] };
  }

  /** The image as DescribeImages gives it, or undefined once it is deregistered (EC2: InvalidAMIID.NotFound). */
  const imageState = async (region: string, imageId: string) => {
    try {
      return (await ec2(region).send(new DescribeImagesCommand({ ImageIds: [imageId], IncludeDeprecated: true })))
        .Images?.[0];
    } catch (error) {
      if (error instanceof Error && error.name === 'InvalidAMIID.NotFound') return undefined;
      throw error;
    }
  };
  const snapshotExists = async (region: string, snapshotId: string) =>
    ((await ec2(region).send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots ?? []).some(
      (s) => s.SnapshotId === snapshotId,
    );
  const ids = (...indexes: number[]) => indexes.map((i) => made[i]?.artifact.artifactId ?? '').sort();

  it('deprecates, then deletes in both regions, what is beyond the newest two and off every channel', {
    timeout: 240_000,
  }, async () => {
    for (let i = 1; i <= 6; i++) made[i] = await makeArtifact(i);
    // prod: a1 then a2 (a1 is its rollback target); latest: a5 then a6.
    const noPublish = { ...registry, ssm: () => ({ send: async () => ({}) }) as never };
    await promoteChannel(noPublish, { template: TEMPLATE, build: BUILD, channel: 'prod' }, ids(1)[0] ?? '');
    await promoteChannel(
      noPublish,
      { template: TEMPLATE, build: BUILD, channel: 'prod' },
      made[2]?.artifact.artifactId ?? '',
    );
    await promoteChannel(
      noPublish,
      { template: TEMPLATE, build: BUILD, channel: 'latest' },
      made[5]?.artifact.artifactId ?? '',
    );
    await promoteChannel(
      noPublish,
      { template: TEMPLATE, build: BUILD, channel: 'latest' },
      made[6]?.artifact.artifactId ?? '',
    );

    const first = await runLifecycle();
    expect(first.deprecated).toEqual(ids(3, 4));
    expect(first.retired).toEqual([]);
    expect(first.kept).toEqual({ recent: 2, channel: 1, 'rollback-target': 1 });
    for (const i of [3, 4]) {
      for (const image of made[i]?.images ?? []) {
        expect((await imageState(image.region, image.imageId))?.DeprecationTime, `${i} ${image.region}`).toBeDefined();
      }
      expect((await getArtifact(registry, made[i]?.artifact.artifactId ?? ''))?.retirement?.deprecatedAt).toBeDefined();
    }
    // A partial failure before the next run: one image of a4 is already gone (deleted by hand, or by a run that
    // stopped half way); the run finishes the rest.
    await ec2(COPY).send(new DeregisterImageCommand({ ImageId: made[4]?.images[1]?.imageId }));

    const second = await runLifecycle();
    expect(second.deprecated).toEqual([]);
    expect(second.retired).toEqual(ids(3, 4));
    for (const i of [3, 4]) {
      for (const image of made[i]?.images ?? []) {
        expect(await imageState(image.region, image.imageId), `${i} ${image.region} image`).toBeUndefined();
        expect(await snapshotExists(image.region, image.snapshotId), `${i} ${image.region} snapshot`).toBe(false);
      }
      expect((await getArtifact(registry, made[i]?.artifact.artifactId ?? ''))?.retirement?.retiredAt).toBeDefined();
    }
    for (const i of [1, 2, 5, 6]) {
      for (const image of made[i]?.images ?? []) {
        const state = await imageState(image.region, image.imageId);
        expect(state?.State, `${i} ${image.region}`).toBe('available');
        expect(state?.DeprecationTime, `${i} ${image.region}`).toBeUndefined();
        expect(await snapshotExists(image.region, image.snapshotId)).toBe(true);
      }
    }

    const third = await runLifecycle();
    expect(third).toMatchObject({ deprecated: [], retired: [], failures: [] });
    expect(third.kept).toEqual({ recent: 2, channel: 1, 'rollback-target': 1, retired: 2 });
  });

  it('deletes an old container image by digest from a Kiln-managed repository, keeping the newest two', {
    timeout: 120_000,
  }, async () => {
    const ecr = new ECRClient(localClientConfig(kiln.aws.endpoint, HOME));
    await ecr.send(
      new CreateRepositoryCommand({ repositoryName: 'app', tags: [{ Key: TAG_MANAGED, Value: TAG_MANAGED_VALUE }] }),
    );
    const images: Artifact[] = [];
    for (let i = 1; i <= 3; i++) {
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        config: {
          mediaType: 'application/vnd.docker.container.image.v1+json',
          size: 1,
          digest: `sha256:${String(i).repeat(64)}`,
        },
        layers: [],
      });
      const put = await ecr.send(
        new PutImageCommand({ repositoryName: 'app', imageManifest: manifest, imageTag: `b-app-${i}` }),
      );
      const buildId = `b-app-${i}`;
      const artifact: Artifact = {
        artifactId: artifactIdFor(buildId, 'docker.app'),
        template: 'app',
        build: 'docker.app',
        buildId,
        createdAt: new Date(Date.UTC(2026, 10, i)).toISOString(),
        content: {
          kind: 'container-image',
          imageUri: `123456789012.dkr.ecr.${HOME}.amazonaws.com/app:${buildId}`,
          digest: put.image?.imageId?.imageDigest ?? '',
        },
      };
      await putArtifact(registry, artifact);
      images.push(artifact);
    }
    const digests = async () =>
      ((await ecr.send(new DescribeImagesCommand_ECR({ repositoryName: 'app' }))).imageDetails ?? [])
        .map((d) => d.imageDigest)
        .sort();
    const [oldest] = images as [Artifact];
    expect((await runLifecycle()).deprecated).toEqual([oldest.artifactId]);
    expect(await digests()).toHaveLength(3);
    expect((await runLifecycle()).retired).toEqual([oldest.artifactId]);
    const left = await digests();
    expect(left).toEqual(
      images
        .slice(1)
        .map((a) => (a.content.kind === 'container-image' ? a.content.digest : ''))
        .sort(),
    );
    expect((await getArtifact(registry, oldest.artifactId))?.retirement?.retiredAt).toBeDefined();
  });

  it('made only calls AWS would allow its role, conditions included (IAM replay)', async () => {
    const iam = kiln.aws.router.iam as IamGuard;
    const calls = iam.calls.filter((c) => /Lifecycle/.test(c.caller.display));
    const report = await iam.replay(calls);
    expect(report.unmodelled).toEqual({});
    expect(report.denied, formatDenials(report.denied)).toEqual([]);
    const checked = new Set(calls.flatMap((c) => (c.requests ?? []).map((r) => r.action)));
    for (const action of [
      'dynamodb:Scan',
      'dynamodb:UpdateItem',
      'ec2:EnableImageDeprecation',
      'ec2:DeregisterImage',
      'ec2:DeleteSnapshot',
      'ecr:BatchDeleteImage',
    ]) {
      expect(checked, action).toContain(action);
    }
  });
});
