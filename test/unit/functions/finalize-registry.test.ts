/**
 * Finalize's image registry writes: the artifact (AMIs per region with snapshots, the source AMI), the `latest`
 * channel and its SSM parameter, and a retried Finalize that records nothing twice. The registry table is a small
 * in-memory fake behind aws-sdk-client-mock that applies the store's conditions as DynamoDB would.
 */
import { DynamoDBClient, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseArtifact, parseChannel, registryTemplateName } from '../../../aws/image-registry-records.ts';
import { artifactIdFor } from '../../../core/image-registry/artifact.ts';
import { type FinalizeInput, finalize } from '../../../functions/common/finalize/finalize.ts';
import { artifactOf, shouldPromote } from '../../../functions/common/finalize/registry.ts';
import type { Ec2AmiState } from '../../../functions/lib/build-state.ts';
import { launchedState, mocks, PLAN, PLAN_KEY } from './fakes.ts';
import { type Item, serveRegistryTable } from './registry-table-fake.ts';

const REGISTRY = 'kiln-registry';
const ddb = mockClient(DynamoDBClient);
let table: Map<string, Item>;

const image = (region: string, imageId: string, snapshotIds: string[], copy: boolean) => ({
  region,
  imageId,
  snapshotIds,
  requestedAt: '2026-01-01T00:00:00.000Z',
  available: true,
  copy,
});

function amiState(over: Partial<Ec2AmiState> = {}): Ec2AmiState {
  return launchedState({
    sourceImageId: 'ami-0aaaaaaa0000ffff',
    images: [
      image('us-east-1', 'ami-0aaaaaaa00000001', ['snap-0aaaaaaa00000001'], false),
      image('eu-west-1', 'ami-0bbbbbbb00000001', ['snap-0bbbbbbb00000001'], true),
    ],
    ...over,
  });
}

function input(state: Ec2AmiState, executionName = 'exec-1'): FinalizeInput {
  return {
    buildId: state.buildId,
    planKey: PLAN_KEY,
    executionName,
    results: [{ name: state.name, status: 'SUCCEEDED', state }],
  };
}

let t: ReturnType<typeof mocks>;
const deps = () => ({
  ...t.deps,
  dynamo: new DynamoDBClient({ region: 'us-east-1' }),
  buildsTable: 'kiln-builds',
  registry: {
    dynamo: new DynamoDBClient({ region: 'us-east-1' }),
    table: REGISTRY,
    ssm: (region: string) => new SSMClient({ region }),
    homeRegion: 'us-east-1',
    now: t.deps.now,
  },
});

beforeEach(() => {
  t = mocks();
  t.s3.on(ListObjectsV2Command).resolves({ Contents: [] });
  t.ssm.on(PutParameterCommand).resolves({ Version: 1 });
  ddb.reset();
  table = serveRegistryTable(ddb);
});

const TEMPLATE = 'web/ubuntu';
const latestOf = (build: string) => {
  const item = [...table.values()].find((i) => i.sk?.S === `CHANNEL#${encodeURIComponent(build)}#latest`);
  return item ? parseChannel(item) : undefined;
};
const artifacts = () => [...table.values()].filter((i) => i.sk?.S === 'ARTIFACT').map(parseArtifact);
const changes = () => [...table.values()].filter((i) => i.sk?.S?.startsWith('CHANGE#'));

describe('Finalize records artifacts in the image registry', () => {
  it('names the template by its key without the templates prefix and suffix', () => {
    expect(PLAN.template.key).toBe('web/ubuntu.pkr.hcl');
    expect(registryTemplateName('web/ubuntu.pkr.hcl')).toBe(TEMPLATE);
    expect(registryTemplateName('templates/team/web.pkr.json')).toBe('team/web');
    expect(registryTemplateName('templates/app.json')).toBe('app');
    expect(registryTemplateName('templates/bundle.tar.gz')).toBe('bundle');
    expect(registryTemplateName('templates/.json')).toBe('.json');
  });

  it('records the AMIs with their snapshots and source, promotes latest and publishes it in every region', async () => {
    const state = amiState();
    const result = await finalize(deps(), input(state));
    const id = artifactIdFor(state.buildId, state.name);
    expect(artifacts()).toEqual([
      {
        artifactId: id,
        template: TEMPLATE,
        build: state.name,
        buildId: state.buildId,
        createdAt: '2026-01-01T00:00:00.000Z',
        content: {
          kind: 'ami',
          images: [
            { region: 'us-east-1', imageId: 'ami-0aaaaaaa00000001', snapshotIds: ['snap-0aaaaaaa00000001'] },
            { region: 'eu-west-1', imageId: 'ami-0bbbbbbb00000001', snapshotIds: ['snap-0bbbbbbb00000001'] },
          ],
        },
        source: { kind: 'ami', region: 'us-east-1', imageId: 'ami-0aaaaaaa0000ffff' },
      },
    ]);
    expect(latestOf(state.name)).toMatchObject({ version: 1, current: id, previous: [] });
    const name = `/kiln/web-ubuntu/${state.name}/latest`;
    const puts = t.ssm.commandCalls(PutParameterCommand).map((c) => c.args[0].input);
    expect(puts).toHaveLength(2);
    expect(puts.every((p) => p.Name === name && p.DataType === 'aws:ec2:image' && p.Overwrite)).toBe(true);
    expect(puts.map((p) => p.Value).sort()).toEqual(['ami-0aaaaaaa00000001', 'ami-0bbbbbbb00000001']);
    expect(result.builds[0]?.registry).toEqual({ artifactId: id, channelParameter: name });
  });

  it('a retried Finalize writes the same artifact and no second channel change', async () => {
    const state = amiState();
    await finalize(deps(), input(state));
    t.setNow('2026-01-01T00:05:00.000Z');
    const again = await finalize(deps(), input(state));
    expect(artifacts()).toHaveLength(1);
    expect(changes()).toHaveLength(1);
    expect(latestOf(state.name)).toMatchObject({ version: 1 });
    // The parameter is published again (the first try may have stopped before it).
    expect(t.ssm.commandCalls(PutParameterCommand)).toHaveLength(4);
    expect(again.builds[0]?.registry?.artifactId).toBe(artifactIdFor(state.buildId, state.name));
  });

  it('a retry after a later build moved latest does not move it back', async () => {
    const first = amiState();
    await finalize(deps(), input(first));
    const second = amiState({
      buildId: 'kb-second',
      images: [image('us-east-1', 'ami-0ccccccc00000001', ['snap-0ccccccc00000001'], false)],
    });
    await finalize(deps(), { ...input(second, 'exec-2'), buildId: 'kb-second' });
    const secondId = artifactIdFor('kb-second', second.name);
    expect(latestOf(first.name)).toMatchObject({ version: 2, current: secondId });
    await finalize(deps(), input(first));
    expect(latestOf(first.name)).toMatchObject({ version: 2, current: secondId });
    expect(changes()).toHaveLength(2);
  });

  it('records nothing for a build without images and for failed builds', async () => {
    const result = await finalize(deps(), {
      ...input(amiState({ images: [] })),
      results: [
        { name: 'amazon-ebs.ubuntu', status: 'SUCCEEDED', state: amiState({ images: [] }) },
        { name: 'other', status: 'FAILED', error: 'Kiln.Timeout' },
      ],
    });
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(0);
    expect(t.ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
    expect(result.builds[0]?.registry).toBeUndefined();
  });

  it('leaves the source out when LaunchBuilder recorded none, and promotes unless latest moved past it', () => {
    const { sourceImageId: _s, ...state } = amiState();
    expect(artifactOf(TEMPLATE, state, '2026-01-01T00:00:00.000Z')?.source).toBeUndefined();
    const ref = { template: TEMPLATE, build: 'b', channel: 'latest' };
    expect(shouldPromote({ ...ref, version: 0, previous: [] }, 'ka-1')).toBe(true);
    expect(shouldPromote({ ...ref, version: 1, current: 'ka-1', previous: [] }, 'ka-1')).toBe(true);
    expect(shouldPromote({ ...ref, version: 2, current: 'ka-2', previous: ['ka-1'] }, 'ka-1')).toBe(false);
  });
});
