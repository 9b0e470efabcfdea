/**
 * Only-if-changed for docker builds, on the emulator (moto) and the REAL local registry (Debian's docker-registry
 * seeded with the python:3.9-slim stand-in, harness/containers/registry.ts): PrepareBuild's resolver is built from
 * the environment the harness gives the functions (KILN_REGISTRY_MIRRORS: docker.io → the local registry), a
 * scheduled only-if-changed docker build is fired with its schedule's exact input (as schedules.test.ts does),
 * skipped the second time with the digest in the reason, and rebuilt after a new manifest is pushed under the same
 * tag, the record saying the base image moved from the old digest to the new one. The own account's ECR is read
 * through moto's ECR with DescribeImages.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { CreateRepositoryCommand, ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BUILD_RECORD_KEY, buildOutcomeUpdate } from '../../aws/build-records.ts';
import { SCHEDULE_GROUP } from '../../aws/schedules.ts';
import { coreEngine } from '../../functions/common/prepare-build/engine.ts';
import { normalizeInput, prepareInputSchema } from '../../functions/common/prepare-build/input.ts';
import { buildIdFor, type PrepareDeps, prepareBuild } from '../../functions/common/prepare-build/prepare-build.ts';
import type { StoredPlan } from '../../functions/lib/plan-store.ts';
import { digestResolverFromEnv, MANIFEST_ACCEPT } from '../../functions/lib/registry-digest.ts';
import { KILN_ENV } from '../../functions/registry.ts';
import { LOCAL_ACCOUNT, localClientConfig } from '../../harness/clients.ts';
import { missingContainerTools } from '../../harness/containers/host.ts';
import { type LocalRegistry, startRegistry } from '../../harness/containers/registry.ts';
import { STANDIN_REPOSITORY, STANDIN_TAG, standinRegistrySeed } from '../../harness/containers/standin.ts';
import { type MotoServer, startMoto } from '../../harness/moto.ts';
import { createBuildsTable, createScheduleGroup, kilnWithScheduler } from './schedules-fixture.ts';

const REGION = 'us-east-1';
const TEMPLATES = 'kiln-templates';
const ARTIFACTS = 'kiln-artifacts';
const BUILDS = 'kiln-builds';
const KEY = 'templates/app/app.json';
const MACHINE = `arn:aws:states:${REGION}:${LOCAL_ACCOUNT}:stateMachine:KilnBuild`;
const ROLE = `arn:aws:iam::${LOCAL_ACCOUNT}:role/KilnStartBuildRole`;
const DLQ = `arn:aws:sqs:${REGION}:${LOCAL_ACCOUNT}:KilnStartFailures`;
const template = (image: string) => JSON.stringify({ builders: [{ type: 'docker', image, commit: true }] });

let moto: MotoServer;
let registry: LocalRegistry;
let dir: string;
let s3: S3Client;
let dynamo: DynamoDBClient;
let scheduler: SchedulerClient;
let ecr: ECRClient;

beforeAll(async () => {
  // No silent skip: without the tools or the stand-in this fails, saying how to set them up.
  const missing = missingContainerTools().filter((t) => t === 'docker-registry');
  if (missing.length > 0)
    throw new Error('docker-registry is not installed (bash scripts/setup.sh installs it from apt)');
  const seed = standinRegistrySeed();
  dir = mkdtempSync(join(tmpdir(), 'kiln-digests-'));
  registry = await startRegistry({ dir, seed });
  moto = await startMoto();
  const config = localClientConfig(moto.endpoint, REGION);
  s3 = new S3Client(config);
  dynamo = new DynamoDBClient(config);
  scheduler = new SchedulerClient(config);
  ecr = new ECRClient(config);
}, 60_000);
afterAll(async () => {
  await moto?.stop();
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await moto.reset();
  for (const Bucket of [TEMPLATES, ARTIFACTS]) await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(new PutObjectCommand({ Bucket: TEMPLATES, Key: KEY, Body: template('python:3.9-slim') }));
  await createBuildsTable(dynamo, BUILDS);
  await createScheduleGroup(scheduler, {
    machine: MACHINE,
    role: ROLE,
    deadLetterQueue: DLQ,
    templateBucket: TEMPLATES,
  });
});

const kiln = (argv: string[]) => kilnWithScheduler(scheduler, REGION, argv);

/** PrepareBuild's deps, its resolver built from the environment the local harness gives the deployed function. */
const deps = (): PrepareDeps => {
  const config = localClientConfig(moto.endpoint, REGION);
  return {
    s3,
    dynamo,
    artifactsBucket: ARTIFACTS,
    buildsTable: BUILDS,
    resolvers: {
      ec2For: () => new EC2Client(config),
      ssm: new SSMClient(config),
      secrets: new SecretsManagerClient(config),
      homeRegion: REGION,
    },
    engine: coreEngine,
    resolveImageDigest: digestResolverFromEnv(
      {
        [KILN_ENV.accountId]: LOCAL_ACCOUNT,
        [KILN_ENV.registryMirrors]: JSON.stringify({ 'docker.io': `http://${registry.address}` }),
      },
      { region: REGION, ecr },
    ),
    now: () => new Date(),
  };
};

async function fire(schedule: string, executionName: string) {
  const stored = await scheduler.send(new GetScheduleCommand({ GroupName: SCHEDULE_GROUP, Name: schedule }));
  const event = prepareInputSchema.parse({ input: JSON.parse(stored.Target?.Input ?? ''), executionName });
  return prepareBuild(deps(), normalizeInput(event.input), executionName);
}

async function finish(executionName: string) {
  const buildId = buildIdFor(executionName);
  await dynamo.send(
    new UpdateItemCommand({
      TableName: BUILDS,
      ...buildOutcomeUpdate(buildId, {
        status: 'SUCCEEDED',
        finishedAt: new Date().toISOString(),
        manifestKey: `manifests/${buildId}/manifest.json`,
        outcomes: [{ name: 'docker', status: 'SUCCEEDED' }],
      }),
    }),
  );
  return buildId;
}

async function recordOf(executionName: string) {
  const { Item } = await dynamo.send(
    new GetItemCommand({ TableName: BUILDS, Key: { [BUILD_RECORD_KEY]: { S: buildIdFor(executionName) } } }),
  );
  return Item;
}

async function storedPlan(planKey: string): Promise<StoredPlan> {
  const out = await s3.send(new GetObjectCommand({ Bucket: ARTIFACTS, Key: planKey }));
  return JSON.parse((await out.Body?.transformToString()) ?? '') as StoredPlan;
}

/** The tag's digest as the registry gives it (what `docker pull` would get). */
async function currentDigest(): Promise<string> {
  const res = await fetch(`http://${registry.address}/v2/${STANDIN_REPOSITORY}/manifests/${STANDIN_TAG}`, {
    method: 'HEAD',
    headers: { Accept: MANIFEST_ACCEPT },
  });
  expect(res.status).toBe(200);
  return res.headers.get('docker-content-digest') as string;
}

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** Registry API: a monolithic blob upload (POST, then PUT with the digest). */
async function pushBlob(data: Buffer): Promise<string> {
  const digest = sha256(data);
  const start = await fetch(`http://${registry.address}/v2/${STANDIN_REPOSITORY}/blobs/uploads/`, { method: 'POST' });
  expect(start.status).toBe(202);
  const location = new URL(start.headers.get('location') as string, `http://${registry.address}`);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: data,
  });
  expect(put.status).toBe(201);
  return digest;
}

/** A new image under the same tag: a small layer and config blob, then an OCI manifest referencing them. */
async function moveTheTag(): Promise<string> {
  const layer = gzipSync(Buffer.alloc(1024));
  const layerDigest = await pushBlob(layer);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [sha256(Buffer.alloc(1024))] },
      config: { Labels: { moved: new Date().toISOString() } },
    }),
  );
  const configDigest = await pushBlob(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length }],
    }),
  );
  const put = await fetch(`http://${registry.address}/v2/${STANDIN_REPOSITORY}/manifests/${STANDIN_TAG}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body: manifest,
  });
  expect(put.status).toBe(201);
  expect(put.headers.get('docker-content-digest')).toBe(sha256(manifest));
  return sha256(manifest);
}

describe('a scheduled only-if-changed docker build on the real local registry', () => {
  it('skips while python:3.9-slim keeps its digest, rebuilds when the tag moves, and records both digests', async () => {
    const before = await currentDigest();
    const add = await kiln(['schedules', 'add', KEY, '--cron', 'rate(1 day)', '--only-if-changed', '--name', 'app']);
    expect(add.code).toBe(0);

    const run1 = await fire('app', 'digest-1');
    expect(run1.skipped).toBeNull();
    expect(run1.builds.map((b) => b.name)).toEqual(['docker']);
    // The lineage: Finalize reads the resolved base image from the stored plan.
    expect((await storedPlan(run1.planKey)).baseImages).toEqual({
      docker: { reference: 'python:3.9-slim', digest: before },
    });
    const built = await finish('digest-1');

    const run2 = await fire('app', 'digest-2');
    expect(run2.builds).toEqual([]);
    expect(run2.skipped).toMatch(
      new RegExp(
        `^skipped: unchanged since build ${built}: same template .*, docker from python:3\\.9-slim \\(${before}\\)$`,
      ),
    );
    expect((await recordOf('digest-2'))?.status?.S).toBe('SKIPPED');

    const after = await moveTheTag();
    expect(after).not.toBe(before);
    expect(await currentDigest()).toBe(after);
    const run3 = await fire('app', 'digest-3');
    expect(run3.skipped).toBeNull();
    expect(run3.builds).toHaveLength(1);
    const record = await recordOf('digest-3');
    expect(record?.changeCheck?.M?.reason?.S).toBe(
      `docker: base image moved from python:3.9-slim (${before}) to python:3.9-slim (${after})`,
    );
    expect(record?.status?.S).toBe('RUNNING');
    expect(JSON.parse(record?.fingerprint?.S ?? '{}').builds).toEqual([
      { name: 'docker', driver: 'ec2-docker', source: { kind: 'image', reference: 'python:3.9-slim', digest: after } },
    ]);
  });

  it("resolves a base image in the account's own ECR with DescribeImages, and a registry off the list not at all", async () => {
    const repository = 'base/python';
    await ecr.send(
      new CreateRepositoryCommand({ repositoryName: repository, tags: [{ Key: 'kiln:managed', Value: 'true' }] }),
    );
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: {
        mediaType: 'application/vnd.docker.container.image.v1+json',
        digest: `sha256:${'c'.repeat(64)}`,
        size: 2,
      },
      layers: [],
    });
    const put = await ecr.send(
      new PutImageCommand({ repositoryName: repository, imageManifest: manifest, imageTag: '3.12' }),
    );
    const host = `${LOCAL_ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;
    const resolve = deps().resolveImageDigest;
    expect(await resolve?.(`${host}/${repository}:3.12`)).toEqual({
      kind: 'digest',
      digest: put.image?.imageId?.imageDigest,
    });
    expect(await resolve?.(`${host}/${repository}:missing`)).toMatchObject({
      kind: 'unresolved',
      reason: expect.stringMatching(/^ECR DescribeImages of base\/python:missing: ImageNotFoundException/),
    });
    expect(await resolve?.(`${registry.address}/library/python:3.9-slim`)).toEqual({
      kind: 'unresolved',
      reason: expect.stringContaining(`${registry.address} is not among the registries Kiln reads digests from`),
    });
  });
});
