/**
 * Finalize of a succeeded docker build (the reference template planned by the real engine): the manifest keeps
 * Packer's own artifact id (`my-python-app`) with builder_type docker and lists the pushed digests in
 * `kiln_pushed_images`; the build result and record name the first pushed repository pinned by digest
 * (`<uri>@sha256:…`); the image registry records a
 * `container-image` artifact whose source is the builder's base image, and `latest` publishes the pinned
 * reference. A docker build that pushed nothing has no artifact id and no registry artifact.
 */
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseArtifact } from '../../../aws/image-registry-records.ts';
import { artifactIdFor } from '../../../core/image-registry/artifact.ts';
import { artifactIdOf, type FinalizeInput, finalize } from '../../../functions/common/finalize/finalize.ts';
import { runUuid } from '../../../functions/common/finalize/manifest.ts';
import { artifactOf } from '../../../functions/common/finalize/registry.ts';
import type { Ec2DockerState } from '../../../functions/lib/build-state.ts';
import { dockerHostState, dockerPlanText } from './docker-fakes.ts';
import { mocks } from './fakes.ts';
import { type Item, serveRegistryTable } from './registry-table-fake.ts';

const REPOSITORY = '123456789012.dkr.ecr.us-east-1.amazonaws.com/my-python-app';
const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
const ddb = mockClient(DynamoDBClient);
let table: Map<string, Item>;
let t: ReturnType<typeof mocks>;

/** The state RecordImages hands on after finish pushed `latest` and the build id. */
function pushedState(over: Partial<Ec2DockerState> = {}): Ec2DockerState {
  return dockerHostState(3, 3, {
    pushed: [{ repository: REPOSITORY, region: 'us-east-1', tags: ['latest', 'kb-test'], digest: DIGEST }],
    packerArtifactId: 'my-python-app',
    ...over,
  });
}

function input(state: Ec2DockerState): FinalizeInput {
  return {
    buildId: 'kb-test',
    planKey: state.planKey,
    executionName: 'exec-1',
    results: [{ name: state.name, status: 'SUCCEEDED', state }],
  };
}

const deps = () => ({
  ...t.deps,
  dynamo: new DynamoDBClient({ region: 'us-east-1' }),
  buildsTable: 'kiln-builds',
  registry: {
    dynamo: new DynamoDBClient({ region: 'us-east-1' }),
    table: 'kiln-registry',
    ssm: () => t.ssmClient,
    homeRegion: 'us-east-1',
    now: t.deps.now,
  },
});

const manifestOf = () => JSON.parse(String(t.s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Body));
const artifacts = () => [...table.values()].filter((i) => i.sk?.S === 'ARTIFACT').map(parseArtifact);

beforeEach(async () => {
  t = mocks(await dockerPlanText());
  t.s3.on(ListObjectsV2Command).resolves({ Contents: [] });
  t.ssm.on(PutParameterCommand).resolves({ Version: 1 });
  ddb.reset();
  table = serveRegistryTable(ddb);
});

describe('Finalize of a docker build', () => {
  it('writes the manifest entry: builder_type docker, Packer’s artifact_id, the pushed digests beside it', async () => {
    const result = await finalize(deps(), input(pushedState()));
    expect(manifestOf()).toEqual({
      builds: [
        {
          name: 'docker',
          builder_type: 'docker',
          build_time: 1767225600,
          files: null,
          artifact_id: 'my-python-app',
          packer_run_uuid: runUuid('exec-1'),
          custom_data: null,
          kiln_pushed_images: [{ repository: REPOSITORY, tags: ['latest', 'kb-test'], digest: DIGEST }],
        },
      ],
      last_run_uuid: runUuid('exec-1'),
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.builds[0]).toMatchObject({
      name: 'docker',
      status: 'SUCCEEDED',
      artifactId: `${REPOSITORY}@${DIGEST}`,
    });
    const values = ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input.ExpressionAttributeValues;
    expect(JSON.stringify(values)).toContain(`${REPOSITORY}@${DIGEST}`);
  });

  it('records a container-image artifact from the base image, and latest publishes the pinned reference', async () => {
    const result = await finalize(deps(), input(pushedState()));
    const id = artifactIdFor('kb-test', 'docker');
    expect(artifacts()).toEqual([
      {
        artifactId: id,
        template: 'docker-python-app',
        build: 'docker',
        buildId: 'kb-test',
        createdAt: '2026-01-01T00:00:00.000Z',
        content: { kind: 'container-image', imageUri: `${REPOSITORY}:latest`, digest: DIGEST },
        source: { kind: 'image', reference: 'python:3.9-slim' },
      },
    ]);
    const name = '/kiln/docker-python-app/docker/latest';
    expect(t.ssm).toHaveReceivedCommandTimes(PutParameterCommand, 1);
    expect(t.ssm).toHaveReceivedCommandWith(PutParameterCommand, {
      Name: name,
      Value: `${REPOSITORY}@${DIGEST}`,
      DataType: 'text',
    });
    expect(result.builds[0]?.registry).toEqual({ artifactId: id, channelParameter: name });
  });

  it('records the base image digest PrepareBuild resolved (the stored plan), which lineage follows', async () => {
    const base = `sha256:${'b'.repeat(64)}`;
    const stored = JSON.parse(await dockerPlanText());
    const withDigest = { ...stored, baseImages: { docker: { reference: 'python:3.9-slim', digest: base } } };
    t = mocks(JSON.stringify(withDigest));
    t.s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    t.ssm.on(PutParameterCommand).resolves({ Version: 1 });
    await finalize(deps(), input(pushedState()));
    expect(artifacts()[0]?.source).toEqual({ kind: 'image', reference: 'python:3.9-slim', digest: base });
    // A digest resolved for another reference than the plan's image is not taken.
    const other = { ...stored, baseImages: { docker: { reference: 'python:3.12', digest: base } } };
    expect(artifactOf('t', pushedState(), 'now', { reference: 'python:3.9-slim' })?.source).toEqual({
      kind: 'image',
      reference: 'python:3.9-slim',
    });
    table.clear();
    t = mocks(JSON.stringify(other));
    t.s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    t.ssm.on(PutParameterCommand).resolves({ Version: 1 });
    await finalize(deps(), input(pushedState()));
    expect(artifacts()[0]?.source).toEqual({ kind: 'image', reference: 'python:3.9-slim' });
  });

  it('a docker build that pushed nothing has no artifact id and no registry artifact', async () => {
    const state = pushedState({ pushed: [], packerArtifactId: 'my-python-app' });
    expect(artifactIdOf(state)).toBe('');
    expect(artifactOf('docker-python-app', state, 't', { reference: 'python:3.9-slim' })).toBeUndefined();
    const result = await finalize(deps(), input(state));
    const entry = manifestOf().builds[0];
    expect(entry).toMatchObject({ builder_type: 'docker', artifact_id: 'my-python-app' });
    expect(entry).not.toHaveProperty('kiln_pushed_images');
    expect(result.builds[0]?.artifactId).toBe('');
    expect(result.builds[0]?.registry).toBeUndefined();
    expect(artifacts()).toEqual([]);
    expect(t.ssm).not.toHaveReceivedCommand(PutParameterCommand);
  });

  it('takes the first pushed repository, and its first tag for the image URI', () => {
    const state = pushedState({
      pushed: [
        { repository: REPOSITORY, region: 'us-east-1', tags: ['v2', 'kb-test'], digest: DIGEST },
        {
          repository: `${REPOSITORY}-mirror`,
          region: 'us-east-1',
          tags: ['kb-test'],
          digest: `sha256:${'f'.repeat(64)}`,
        },
      ],
    });
    expect(artifactIdOf(state)).toBe(`${REPOSITORY}@${DIGEST}`);
    expect(artifactOf('t', state, 'now')?.content).toEqual({
      kind: 'container-image',
      imageUri: `${REPOSITORY}:v2`,
      digest: DIGEST,
    });
    // Without a base image there is no lineage.
    expect(artifactOf('t', state, 'now')?.source).toBeUndefined();
  });
});
