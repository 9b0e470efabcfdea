/**
 * ECR against the emulator (moto): ensureRepositories creates a repository with Kiln's configuration (read back
 * from ECR, not from our request), leaves an existing Kiln-managed one alone and refuses an unmanaged one; the
 * login password decodes from GetAuthorizationToken; RecordImages reads the digest of an image put under the
 * build id tag (moto has no registry protocol, so PutImage stands in for the host's docker push).
 */
import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetLifecyclePolicyCommand,
  ListTagsForResourceCommand,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type PublishedRepository, planDockerPostProcessors } from '../../core/docker/postprocess.ts';
import { recordImages } from '../../functions/ec2-docker/record-images/record-images.ts';
import { ensureRepositories } from '../../functions/lib/ecr/ensure.ts';
import { ecrPassword } from '../../functions/lib/ecr/password.ts';
import { DEFAULT_ECR_SETTINGS, lifecyclePolicy } from '../../functions/lib/ecr/settings.ts';
import { clearPlanCache } from '../../functions/lib/plan-store.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION, localClientConfig } from '../../harness/clients.ts';
import { type MotoServer, startMoto } from '../../harness/moto.ts';
import { dockerState, storedDockerPlan } from '../unit/functions/docker-plan.ts';

const REGISTRY = { account: LOCAL_ACCOUNT, region: LOCAL_REGION };
const HOST = `${LOCAL_ACCOUNT}.dkr.ecr.${LOCAL_REGION}.amazonaws.com`;
const TAG_CONTEXT = {
  buildId: 'kb-test',
  executionName: 'exec-1',
  template: 's3://t/app.json',
  index: 0,
  name: 'docker',
};
const BUCKET = 'kiln-artifacts';
const PLAN_KEY = 'builds/kb-test/plan.json';
/** The reference template (examples/docker-python-app.json): docker-tag my-python-app, empty tag. */
const REFERENCE = {
  builders: [{ type: 'docker', image: 'python:3.9-slim', commit: true }],
  provisioners: [{ type: 'shell', inline: ['pip install -r requirements.txt'] }],
  'post-processors': [{ type: 'docker-tag', repository: 'my-python-app', tag: '' }],
};
const MANIFEST = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
  config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 2, digest: `sha256:${'c'.repeat(64)}` },
  layers: [
    { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 3, digest: `sha256:${'d'.repeat(64)}` },
  ],
});

let moto: MotoServer;
let ecr: ECRClient;
let s3: S3Client;

beforeAll(async () => {
  moto = await startMoto();
  ecr = new ECRClient(localClientConfig(moto.endpoint));
  s3 = new S3Client(localClientConfig(moto.endpoint));
}, 60_000);
afterAll(async () => {
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
});

const publishedOf = (repository: string): readonly PublishedRepository[] =>
  planDockerPostProcessors({
    mode: 'commit',
    buildTag: 'kb-test',
    registry: REGISTRY,
    chains: [[{ type: 'docker-tag', config: { repository, tag: [] } }]],
  }).published;
const options = { settings: DEFAULT_ECR_SETTINGS, registry: REGISTRY, tagContext: TAG_CONTEXT };

describe('ensureRepositories on moto', () => {
  it('creates the repository as configured: scan on push, encryption, mutability, tags, lifecycle', async () => {
    const settings = { ...DEFAULT_ECR_SETTINGS, tagMutability: 'IMMUTABLE' as const };
    const out = await ensureRepositories(ecr, publishedOf('team/my-python-app'), { ...options, settings });
    expect(out.map((o) => o.action)).toEqual(['created']);
    const repo = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['team/my-python-app'] })))
      .repositories?.[0];
    expect(repo?.repositoryUri).toBe(`${HOST}/team/my-python-app`);
    expect(repo?.imageScanningConfiguration?.scanOnPush).toBe(true);
    expect(repo?.imageTagMutability).toBe('IMMUTABLE');
    expect(repo?.encryptionConfiguration?.encryptionType).toBe('AES256');
    const tags = (await ecr.send(new ListTagsForResourceCommand({ resourceArn: repo?.repositoryArn }))).tags ?? [];
    expect(tags).toContainEqual({ Key: 'kiln:managed', Value: 'true' });
    expect(tags).toContainEqual({ Key: 'kiln:build-id', Value: 'kb-test' });
    const policy = await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'team/my-python-app' }));
    expect(JSON.parse(policy.lifecyclePolicyText ?? '{}')).toEqual(JSON.parse(lifecyclePolicy(settings)));
  });

  it('asks ECR for the configured KMS key', async () => {
    const key = `arn:aws:kms:${LOCAL_REGION}:${LOCAL_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    await ensureRepositories(ecr, publishedOf('enc'), {
      ...options,
      settings: { ...DEFAULT_ECR_SETTINGS, kmsKeyArn: key },
    });
    const repo = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['enc'] }))).repositories?.[0];
    expect(repo?.encryptionConfiguration).toEqual({ encryptionType: 'KMS', kmsKey: key });
  });

  it('uses a managed repository as is in a later build, finishes its own on a retry, refuses one without kiln:managed', async () => {
    await ensureRepositories(ecr, publishedOf('app'), options);
    const later = { ...options, tagContext: { ...TAG_CONTEXT, buildId: 'kb-later' } };
    expect((await ensureRepositories(ecr, publishedOf('app'), later)).map((o) => o.action)).toEqual(['existing']);
    expect((await ensureRepositories(ecr, publishedOf('app'), options)).map((o) => o.action)).toEqual(['created']);
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'theirs', tags: [{ Key: 'team', Value: 'x' }] }));
    await expect(ensureRepositories(ecr, publishedOf('theirs'), options)).rejects.toMatchObject({
      name: 'Kiln.PublishFailed',
      message: expect.stringContaining('exists but is not tagged kiln:managed=true'),
    });
  });
});

describe('ECR login and read-back on moto', () => {
  it('decodes the password of the authorization token', async () => {
    await expect(ecrPassword(ecr)).resolves.toBe(`${LOCAL_ACCOUNT}-auth-token`);
  });

  it('records the digest of the image pushed under the build id tag for the reference template', async () => {
    await ensureRepositories(ecr, publishedOf('my-python-app'), options);
    const put = await ecr.send(
      new PutImageCommand({ repositoryName: 'my-python-app', imageManifest: MANIFEST, imageTag: 'kb-test' }),
    );
    await ecr.send(
      new PutImageCommand({ repositoryName: 'my-python-app', imageManifest: MANIFEST, imageTag: 'latest' }),
    );
    clearPlanCache();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const stored = await storedDockerPlan(REFERENCE);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: PLAN_KEY, Body: JSON.stringify(stored) }));
    const deps = { s3, artifactsBucket: BUCKET, homeRegion: LOCAL_REGION, accountId: LOCAL_ACCOUNT, ecrFor: () => ecr };
    const out = await recordImages(deps, { state: dockerState(PLAN_KEY) });
    expect(out.state.pushed).toEqual([
      {
        repository: `${HOST}/my-python-app`,
        region: LOCAL_REGION,
        tags: ['latest', 'kb-test'],
        digest: put.image?.imageId?.imageDigest,
      },
    ]);
    expect(put.image?.imageId?.imageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('fails with Kiln.PublishFailed when the build id tag was never pushed', async () => {
    await ensureRepositories(ecr, publishedOf('my-python-app'), options);
    await ecr.send(
      new PutImageCommand({ repositoryName: 'my-python-app', imageManifest: MANIFEST, imageTag: 'latest' }),
    );
    clearPlanCache();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: PLAN_KEY, Body: JSON.stringify(await storedDockerPlan(REFERENCE)) }),
    );
    const deps = { s3, artifactsBucket: BUCKET, homeRegion: LOCAL_REGION, accountId: LOCAL_ACCOUNT, ecrFor: () => ecr };
    await expect(recordImages(deps, { state: dockerState(PLAN_KEY) })).rejects.toMatchObject({
      name: 'Kiln.PublishFailed',
      message: expect.stringContaining(`The image ${HOST}/my-python-app:kb-test is not in ECR after the push`),
    });
  });
});
