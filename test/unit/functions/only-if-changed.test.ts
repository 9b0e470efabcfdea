/**
 * Only-if-changed in PrepareBuild: the input fingerprint (template tree hash, resolved source AMI, base image
 * digest) and the skip of a scheduled build whose inputs did not move since the last successful build, with the
 * verdict in the build record (mocked AWS; the emulator test is test/integration/schedules.test.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AttributeValue, DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILD_TEMPLATE_INDEX, parseBuildRecord } from '../../../aws/build-records.ts';
import { scheduledBuildInput } from '../../../aws/trigger-contract.ts';
import type { PlannedBuild } from '../../../core/plan/types.ts';
import { normalizeInput, prepareInputSchema } from '../../../functions/common/prepare-build/input.ts';
import {
  type FingerprintDeps,
  inputFingerprint,
  treeSha256,
  withoutSensitive,
} from '../../../functions/common/prepare-build/only-if-changed.ts';
import { buildIdFor, prepareBuild } from '../../../functions/common/prepare-build/prepare-build.ts';
import { body } from './fakes.ts';
import { prepareDeps } from './prepare-deps.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-fingerprint-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function tree(root: string, files: Record<string, string>): Promise<string> {
  await mkdir(root, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

describe('treeSha256', () => {
  it('is the same for the same files whatever the order they were written in, and moves with any file', async () => {
    const a = await tree(join(dir, 'a'), { 'web.pkr.hcl': 'build {}', 'scripts/setup.sh': 'echo 1' });
    const b = await tree(join(dir, 'b'), { 'scripts/setup.sh': 'echo 1', 'web.pkr.hcl': 'build {}' });
    const script = await tree(join(dir, 'c'), { 'web.pkr.hcl': 'build {}', 'scripts/setup.sh': 'echo 2' });
    const renamed = await tree(join(dir, 'd'), { 'web.pkr.hcl': 'build {}', 'scripts/init.sh': 'echo 1' });
    expect(await treeSha256(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(await treeSha256(b)).toBe(await treeSha256(a));
    expect(await treeSha256(script)).not.toBe(await treeSha256(a));
    expect(await treeSha256(renamed)).not.toBe(await treeSha256(a));
  });
});

// Planned builds carry many fields; the fingerprint reads only these (a cast keeps the fixtures to them).
const amiBuild = (config: Record<string, unknown>, region = 'eu-west-1') =>
  ({ name: 'amazon-ebs.base', driver: 'ec2-ami', config, ami: { region, copyRegions: [] } }) as unknown as PlannedBuild;
const dockerBuild = (config: Record<string, unknown>) =>
  ({ name: 'docker.app', driver: 'ec2-docker', config }) as unknown as PlannedBuild;
const DIGEST = `sha256:${'c'.repeat(64)}`;

describe('inputFingerprint', () => {
  const ec2 = mockClient(EC2Client);
  beforeEach(() => ec2.reset());
  const deps = (extra: Partial<FingerprintDeps> = {}): FingerprintDeps => ({
    ec2For: (r: string) => new EC2Client({ region: r }),
    homeRegion: 'us-east-1',
    ...extra,
  });

  it('takes source_ami as written, and resolves source_ami_filter to the newest match as LaunchBuilder does', async () => {
    ec2.on(DescribeImagesCommand).resolves({
      Images: [
        { ImageId: 'ami-old', CreationDate: '2026-01-01T00:00:00.000Z' },
        { ImageId: 'ami-new', CreationDate: '2026-06-01T00:00:00.000Z' },
      ],
    });
    const root = await tree(join(dir, 't'), { 't.pkr.hcl': 'x' });
    const fp = await inputFingerprint(deps(), {
      root,
      versionId: 'v3',
      builds: [
        amiBuild({ source_ami: 'ami-0123' }),
        {
          ...amiBuild({
            source_ami_filter: { filters: { name: 'ubuntu/*' }, owners: ['099720109477'], most_recent: true },
          }),
          name: 'amazon-ebs.filtered',
        } as PlannedBuild,
      ],
    });
    expect(fp).toEqual({
      version: 1,
      template: { sha256: await treeSha256(root), versionId: 'v3' },
      builds: [
        {
          name: 'amazon-ebs.base',
          driver: 'ec2-ami',
          source: { kind: 'ami', region: 'eu-west-1', id: 'ami-0123', from: 'source_ami' },
        },
        {
          name: 'amazon-ebs.filtered',
          driver: 'ec2-ami',
          source: { kind: 'ami', region: 'eu-west-1', id: 'ami-new', from: 'source_ami_filter' },
        },
      ],
    });
    expect(ec2).toHaveReceivedCommandTimes(DescribeImagesCommand, 1);
    expect(ec2).toHaveReceivedCommandWith(DescribeImagesCommand, {
      Owners: ['099720109477'],
      Filters: [{ Name: 'name', Values: ['ubuntu/*'] }],
    });
  });

  it('records a filter it cannot resolve as unresolved, with the reason, instead of failing', async () => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [] });
    const root = await tree(join(dir, 't'), { 't.pkr.hcl': 'x' });
    const fp = await inputFingerprint(deps(), {
      root,
      builds: [amiBuild({ source_ami_filter: { filters: { name: 'gone-*' }, most_recent: true } })],
    });
    expect(fp.builds[0]?.source).toEqual({
      kind: 'unresolved',
      what: 'source_ami_filter',
      reason: 'source_ami_filter matched no AMI: check the filters, owners and region',
    });
  });

  it('keeps a pinned digest, leaves a tag without one unless a resolver finds it, and says what it did not read', async () => {
    const root = await tree(join(dir, 't'), { 't.pkr.hcl': 'x' });
    const builds = [
      dockerBuild({ image: `python@${DIGEST}` }),
      { ...dockerBuild({ image: 'python:3.12-slim' }), name: 'docker.tag' } as PlannedBuild,
      { ...dockerBuild({ build: { path: 'Dockerfile' } }), name: 'docker.dockerfile' } as PlannedBuild,
      { name: 'null.x', driver: 'agent', config: {} } as unknown as PlannedBuild,
    ];
    const plain = await inputFingerprint(deps(), { root, builds });
    expect(plain.builds.map((b) => b.source)).toEqual([
      { kind: 'image', reference: `python@${DIGEST}`, digest: DIGEST },
      { kind: 'image', reference: 'python:3.12-slim' },
      { kind: 'unresolved', what: 'the Dockerfile of the build block', reason: 'its FROM image is not read' },
      { kind: 'none' },
    ]);
    const asked: string[] = [];
    const resolved = await inputFingerprint(
      deps({
        resolveImageDigest: async (reference) => {
          asked.push(reference);
          return { kind: 'digest', digest: DIGEST };
        },
      }),
      {
        root,
        builds: [...builds, { ...dockerBuild({ image: 'python:3.12-slim' }), name: 'docker.again' } as PlannedBuild],
      },
    );
    expect(resolved.builds[1]?.source).toEqual({ kind: 'image', reference: 'python:3.12-slim', digest: DIGEST });
    expect(resolved.builds[4]?.source).toEqual({ kind: 'image', reference: 'python:3.12-slim', digest: DIGEST });
    // A pinned reference is never looked up; one lookup per reference per execution.
    expect(asked).toEqual(['python:3.12-slim']);
    const refused = await inputFingerprint(
      deps({ resolveImageDigest: async () => ({ kind: 'unresolved', reason: 'example.com is not allowed' }) }),
      { root, builds },
    );
    expect(refused.builds[1]?.source).toEqual({
      kind: 'unresolved',
      what: 'image python:3.12-slim',
      reason: 'example.com is not allowed',
    });
    const failing = await inputFingerprint(
      deps({
        resolveImageDigest: async () => {
          throw new Error('registry unreachable');
        },
      }),
      { root, builds },
    );
    expect(failing.builds[1]?.source).toEqual({
      kind: 'unresolved',
      what: 'image python:3.12-slim',
      reason: 'registry unreachable',
    });
  });
});

describe('withoutSensitive', () => {
  it('never lets a sensitive value into the stored fingerprint: that source becomes unresolved (always changed)', () => {
    const fp = {
      version: 1 as const,
      template: { sha256: 'a'.repeat(64) },
      builds: [
        {
          name: 'a',
          driver: 'ec2-ami',
          source: { kind: 'ami' as const, region: 'r', id: 'ami-secret1', from: 'source_ami' as const },
        },
        { name: 'b', driver: 'ec2-docker', source: { kind: 'image' as const, reference: 'registry.example/app:1' } },
      ],
    };
    expect(withoutSensitive(fp, [])).toBe(fp);
    const out = withoutSensitive(fp, ['', 'secret1']);
    expect(out.builds[0]?.source).toEqual({
      kind: 'unresolved',
      what: 'the source',
      reason: 'it comes from a sensitive value, which is never recorded',
    });
    expect(out.builds[1]).toEqual(fp.builds[1]);
    expect(JSON.stringify(out)).not.toContain('secret1');
  });
});

describe('prepareBuild of a scheduled build with only-if-changed', () => {
  const FIXTURES = new URL('../../fixtures/functions/prepare/web/', import.meta.url);
  const read = async (name: string) => (await import('node:fs')).readFileSync(new URL(name, FIXTURES), 'utf8');

  async function setup() {
    const s3 = mockClient(S3Client);
    const ddb = mockClient(DynamoDBClient);
    s3.on(GetObjectCommand, { Bucket: 'templates', Key: 'templates/web/ubuntu.pkr.hcl' }).resolves({
      Body: body(await read('ubuntu.pkr.hcl')),
    });
    s3.on(GetObjectCommand, { Bucket: 'templates', Key: 'templates/web/scripts/setup.sh' }).resolves({
      Body: body(await read('scripts/setup.sh')),
    });
    s3.on(ListObjectsV2Command).resolves({
      Contents: [
        { Key: 'templates/web/ubuntu.pkr.hcl', Size: 10 },
        { Key: 'templates/web/scripts/setup.sh', Size: 21 },
      ],
    });
    // The schedule's exact target input, wrapped by the ASL as PrepareBuild's event.
    const input = scheduledBuildInput({
      schedule: 'web-nightly',
      bucket: 'templates',
      key: 'templates/web/ubuntu.pkr.hcl',
      onlyIfChanged: true,
    });
    const request = normalizeInput(prepareInputSchema.parse({ input, executionName: 'x' }).input);
    const sent: string[] = [];
    const deps = {
      ...prepareDeps({ dataKeyId: 'data-key-id' }),
      events: async (events: readonly { detailType: string; detail: object }[]) => {
        sent.push(...events.map((e) => e.detailType));
        return { sent: [], failed: [] };
      },
    };
    return { s3, ddb, sent, run: (execution: string) => prepareBuild(deps, request, execution) };
  }

  const putItem = (ddb: ReturnType<typeof mockClient>, n = 0) =>
    parseBuildRecord(ddb.commandCalls(PutItemCommand)[n]?.args[0].input.Item as Record<string, AttributeValue>);

  it('builds when there is no successful build yet, recording the fingerprint and the verdict', async () => {
    const t = await setup();
    t.ddb.on(QueryCommand).resolves({ Items: [] });
    const out = await t.run('exec-first');
    expect(out.skipped).toBeNull();
    expect(out.builds).toHaveLength(1);
    expect(t.ddb).toHaveReceivedCommandWith(QueryCommand, {
      TableName: 'kiln-builds',
      IndexName: BUILD_TEMPLATE_INDEX.name,
      ScanIndexForward: false,
      ExpressionAttributeValues: { ':t': { S: 'templates/templates/web/ubuntu.pkr.hcl' }, ':ok': { S: 'SUCCEEDED' } },
    });
    const record = putItem(t.ddb);
    expect(record).toMatchObject({
      status: 'RUNNING',
      trigger: 'schedule',
      schedule: 'web-nightly',
      changeCheck: { changed: true, reason: 'no successful build of this template is recorded yet' },
    });
    expect(record.fingerprint?.builds).toEqual([
      {
        name: 'amazon-ebs.ubuntu',
        driver: 'ec2-ami',
        source: { kind: 'ami', region: 'us-east-1', id: 'ami-0123456789abcdef0', from: 'source_ami' },
      },
    ]);
  });

  it('ends without building when nothing moved since the last successful build, and records it SKIPPED', async () => {
    const first = await setup();
    first.ddb.on(QueryCommand).resolves({ Items: [] });
    await first.run('exec-first');
    const succeeded = {
      ...(first.ddb.commandCalls(PutItemCommand)[0]?.args[0].input.Item as Record<string, AttributeValue>),
      status: { S: 'SUCCEEDED' },
    };

    const t = await setup();
    t.ddb.on(QueryCommand).resolves({ Items: [succeeded] });
    const out = await t.run('exec-second');
    const previous = buildIdFor('exec-first');
    expect(out).toEqual({
      buildId: buildIdFor('exec-second'),
      planKey: '',
      builds: [],
      skipped: expect.stringMatching(
        new RegExp(
          `^skipped: unchanged since build ${previous}: same template \\(sha256 [0-9a-f]{12}\\), amazon-ebs.ubuntu from ami-0123456789abcdef0 \\(us-east-1\\)$`,
        ),
      ),
    });
    // Nothing staged, no plan stored, no event (nothing is built): the execution ends at PrepareBuild.
    expect(t.s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(first.sent).toEqual(['Kiln Build Started']);
    expect(t.sent).toEqual([]);
    expect(putItem(t.ddb)).toMatchObject({
      status: 'SKIPPED',
      finishedAt: '2026-01-01T00:00:00.000Z',
      changeCheck: { changed: false, comparedWith: previous },
    });
  });

  it('builds again when a file beside the template changed', async () => {
    const first = await setup();
    first.ddb.on(QueryCommand).resolves({ Items: [] });
    await first.run('exec-first');
    const succeeded = {
      ...(first.ddb.commandCalls(PutItemCommand)[0]?.args[0].input.Item as Record<string, AttributeValue>),
      status: { S: 'SUCCEEDED' },
    };
    const t = await setup();
    t.s3.on(GetObjectCommand, { Bucket: 'templates', Key: 'templates/web/scripts/setup.sh' }).resolves({
      Body: body('#!/bin/sh\necho changed\n'),
    });
    t.ddb.on(QueryCommand).resolves({ Items: [succeeded] });
    const out = await t.run('exec-changed');
    expect(out.skipped).toBeNull();
    expect(putItem(t.ddb).changeCheck?.reason).toMatch(/^the template or a file beside it changed since build kb-/);
  });
});
