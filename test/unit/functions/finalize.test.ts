import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { checkDetail, type KilnEvent } from '../../../aws/events-contract.ts';
import type { EmitResult } from '../../../aws/events-emitter.ts';
import { builtImages, finalize } from '../../../functions/common/finalize/finalize.ts';
import { runUuid } from '../../../functions/common/finalize/manifest.ts';
import { launchedState, mocks, PLAN_KEY } from './fakes.ts';
import { serveRegistryTable } from './registry-table-fake.ts';

describe('finalize', () => {
  it('takes the manifest’s AMIs from an ec2-ami build state only', () => {
    const image = {
      region: 'us-east-1',
      imageId: 'ami-1',
      snapshotIds: [],
      requestedAt: 't',
      available: true,
      copy: false,
    };
    expect(builtImages(launchedState({ images: [image] }))).toEqual([image]);
    const { images: _images, stopRequestedAt: _stop, ...host } = launchedState();
    expect(builtImages({ ...host, driver: 'ec2-docker', pushed: [] })).toEqual([]);
  });

  it('writes the Packer manifest, records outcomes and removes staged files', async () => {
    const t = mocks();
    const ddb = mockClient(DynamoDBClient);
    serveRegistryTable(ddb);
    t.s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'builds/kb-test/files/scripts/setup.sh' }] });
    const state = launchedState({
      images: [
        {
          region: 'eu-west-1',
          imageId: 'ami-0e0e0e0e',
          snapshotIds: [],
          requestedAt: 't',
          available: true,
          copy: true,
        },
        {
          region: 'us-east-1',
          imageId: 'ami-05c05c05',
          snapshotIds: [],
          requestedAt: 't',
          available: true,
          copy: false,
        },
      ],
    });
    const result = await finalize(
      {
        ...t.deps,
        dynamo: new DynamoDBClient({ region: 'us-east-1' }),
        buildsTable: 'kiln-builds',
        registry: {
          dynamo: new DynamoDBClient({ region: 'us-east-1' }),
          table: 'kiln-registry',
          ssm: () => t.ssmClient,
          homeRegion: 'us-east-1',
        },
      },
      {
        buildId: 'kb-test',
        planKey: PLAN_KEY,
        executionName: 'exec-1',
        results: [
          { name: 'amazon-ebs.ubuntu', status: 'SUCCEEDED', state },
          {
            name: 'docker.app',
            status: 'FAILED',
            error: 'Kiln.DriverUnavailable',
            cause: 'not yet',
            cleanup: { steps: [], complete: true },
          },
        ],
      },
    );
    expect(result.status).toBe('PARTIAL');
    expect(result.builds[0]).toMatchObject({
      name: 'amazon-ebs.ubuntu',
      status: 'SUCCEEDED',
      artifactId: 'eu-west-1:ami-0e0e0e0e,us-east-1:ami-05c05c05',
    });
    expect(result.builds[1]).toMatchObject({ status: 'FAILED', error: 'Kiln.DriverUnavailable' });
    const put = t.s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put).toMatchObject({
      Bucket: 'kiln-artifacts',
      Key: 'manifests/kb-test/manifest.json',
    });
    // The bucket's customer-managed key applies: `aws:kms` without a key id would pick the AWS-managed one.
    expect(put?.ServerSideEncryption === undefined || put?.SSEKMSKeyId !== undefined).toBe(true);
    const manifest = JSON.parse(String(put?.Body));
    expect(manifest).toEqual({
      builds: [
        {
          name: 'amazon-ebs.ubuntu',
          builder_type: 'amazon-ebs',
          build_time: 1767225600,
          files: null,
          artifact_id: 'eu-west-1:ami-0e0e0e0e,us-east-1:ami-05c05c05',
          packer_run_uuid: runUuid('exec-1'),
          custom_data: { team: 'web' },
        },
      ],
      last_run_uuid: runUuid('exec-1'),
    });
    expect(runUuid('exec-1')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(ddb).toHaveReceivedCommandWith(UpdateItemCommand, {
      TableName: 'kiln-builds',
      Key: { buildId: { S: 'kb-test' } },
    });
    const values = ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input.ExpressionAttributeValues;
    expect(values?.[':s']).toEqual({ S: 'PARTIAL' });
    expect(t.s3).toHaveReceivedCommandWith(DeleteObjectsCommand, {
      Delete: { Objects: [{ Key: 'builds/kb-test/files/scripts/setup.sh' }], Quiet: true },
    });
  });

  it('emits Channel Updated for the latest it moved and Build Failed for a partial build; a refused event is reported, not thrown', async () => {
    const t = mocks();
    const ddb = mockClient(DynamoDBClient);
    serveRegistryTable(ddb);
    t.s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    const image = {
      region: 'us-east-1',
      imageId: 'ami-05c05c05',
      snapshotIds: [],
      requestedAt: 't',
      available: true,
      copy: false,
    };
    const sent: KilnEvent[] = [];
    const sink = async (events: readonly KilnEvent[]): Promise<EmitResult> => {
      sent.push(...events);
      const refused = events.filter((e) => e.detailType === 'Kiln Build Failed');
      return {
        sent: events.filter((e) => !refused.includes(e)).map((e) => ({ detailType: e.detailType, eventId: 'id' })),
        failed: refused.map((e) => ({ detailType: e.detailType, code: 'AccessDeniedException', message: 'no' })),
      };
    };
    const dynamo = new DynamoDBClient({ region: 'us-east-1' });
    const result = await finalize(
      {
        ...t.deps,
        dynamo,
        buildsTable: 'kiln-builds',
        registry: { dynamo, table: 'kiln-registry', ssm: () => t.ssmClient, homeRegion: 'us-east-1' },
        events: sink,
      },
      {
        buildId: 'kb-test',
        planKey: PLAN_KEY,
        executionName: 'exec-1',
        results: [
          { name: 'amazon-ebs.ubuntu', status: 'SUCCEEDED', state: launchedState({ images: [image] }) },
          { name: 'docker.app', status: 'FAILED', error: 'Kiln.Timeout', cause: `waited ${'x'.repeat(3000)}` },
        ],
      },
    );
    expect(result.status).toBe('PARTIAL');
    expect(sent.map((e) => e.detailType)).toEqual(['Kiln Channel Updated', 'Kiln Build Failed']);
    for (const e of sent) expect(() => checkDetail(e.detailType, e.detail)).not.toThrow();
    expect(sent[0]?.detail).toMatchObject({ channel: 'latest', action: 'promote', by: 'pipeline', buildId: 'kb-test' });
    const ended = sent[1]?.detail as { status: string; manifest: { uri: string }; builds: { cause?: string }[] };
    expect(ended).toMatchObject({
      buildId: 'kb-test',
      status: 'PARTIAL',
      manifest: { uri: 's3://kiln-artifacts/manifests/kb-test/manifest.json' },
      builds: [
        {
          name: 'amazon-ebs.ubuntu',
          status: 'SUCCEEDED',
          artifactId: 'us-east-1:ami-05c05c05',
          registryArtifactId: expect.stringMatching(/^ka-/),
        },
        { name: 'docker.app', status: 'FAILED', error: 'Kiln.Timeout' },
      ],
    });
    expect(ended.builds[1]?.cause).toHaveLength(1000);
    expect(result.undeliveredEvents).toEqual(['Kiln Build Failed: AccessDeniedException: no']);
  });
});
