/**
 * The image registry on the emulator (moto's DynamoDB and SSM): artifacts with lineage, promote → parameter
 * value and data type, rollback → previous value, concurrent promotions that lose nothing, the conflict a
 * stale write meets, and the `kiln channels` / `kiln artifacts` commands against the same table.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  channelHistory,
  findArtifactByImage,
  getChannel,
  listArtifacts,
  listChannels,
  promoteChannel,
  putArtifact,
  type RegistryContext,
  rollbackChannel,
  writeTransition,
} from '../../aws/image-registry-store.ts';
import { bufferedIO } from '../../cli/io.ts';
import { commandHandlers, runCli } from '../../cli/program.ts';
import type { RegistryConnect } from '../../cli/registry.ts';
import { promote } from '../../core/image-registry/channels.ts';
import { RegistryError } from '../../core/image-registry/errors.ts';
import { localClientConfig } from '../../harness/clients.ts';
import { type MotoServer, startMoto } from '../../harness/moto.ts';
import { amiArtifact, imageArtifact } from '../unit/image-registry/fixtures.ts';
import { createRegistryTable } from './registry-table.ts';

const REGION = 'us-east-1';
const TABLE = 'kiln-registry';
let moto: MotoServer;
let ctx: RegistryContext;
const ssmClients = new Map<string, SSMClient>();
const ssm = (region: string) => {
  let client = ssmClients.get(region);
  if (!client) {
    client = new SSMClient(localClientConfig(moto.endpoint, region));
    ssmClients.set(region, client);
  }
  return client;
};

async function parameter(name: string, region = REGION) {
  const out = await ssm(region).send(new GetParameterCommand({ Name: name }));
  return { value: out.Parameter?.Value, dataType: out.Parameter?.DataType };
}

beforeAll(async () => {
  moto = await startMoto();
}, 60_000);
afterAll(async () => {
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  const dynamo = new DynamoDBClient(localClientConfig(moto.endpoint, REGION));
  await createRegistryTable(dynamo, TABLE);
  ctx = { dynamo, table: TABLE, ssm, homeRegion: REGION };
});

const ref = { template: 'web', build: 'amazon-ebs.base', channel: 'prod' };

describe('artifacts', () => {
  it('records artifacts, lists them newest first per template and build, and finds one by its AMI', async () => {
    const a = amiArtifact({ createdAt: '2026-01-01T00:00:00.000Z', images: [['us-east-1', 'ami-0000000a']] });
    const b = amiArtifact({ createdAt: '2026-01-02T00:00:00.000Z', images: [['us-east-1', 'ami-0000000b']] });
    const other = amiArtifact({ build: 'amazon-ebs.other', createdAt: '2026-01-03T00:00:00.000Z' });
    for (const x of [a, b, other]) await putArtifact(ctx, x);
    await putArtifact(ctx, a); // a retry writes the same record
    expect((await listArtifacts(ctx, 'web')).map((x) => x.artifactId)).toEqual([
      other.artifactId,
      b.artifactId,
      a.artifactId,
    ]);
    expect((await listArtifacts(ctx, 'web', 'amazon-ebs.base')).map((x) => x.artifactId)).toEqual([
      b.artifactId,
      a.artifactId,
    ]);
    expect(await listArtifacts(ctx, 'api')).toEqual([]);
    expect(await findArtifactByImage(ctx, 'ami-0000000b')).toEqual(b);
  });

  it('links the parent Kiln artifact from the source AMI, and keeps a build name with # apart', async () => {
    const base = amiArtifact({ template: 'base', build: 'os', images: [['eu-west-1', 'ami-000000ba']] });
    await putArtifact(ctx, base);
    const child = await putArtifact(
      ctx,
      amiArtifact({ source: { kind: 'ami', region: 'eu-west-1', imageId: 'ami-000000ba' } }),
    );
    expect(child.parent).toEqual({ artifactId: base.artifactId, template: 'base', build: 'os' });
    const orphan = await putArtifact(
      ctx,
      amiArtifact({ source: { kind: 'ami', region: 'us-east-1', imageId: 'ami-0000ffff' } }),
    );
    expect(orphan.parent).toBeUndefined();
    await putArtifact(ctx, amiArtifact({ template: 'base', build: 'os#x' }));
    expect((await listArtifacts(ctx, 'base', 'os')).map((x) => x.artifactId)).toEqual([base.artifactId]);
  });
});

describe('channels', () => {
  it('promote publishes the AMI with the aws:ec2:image data type in each region; rollback the previous one', async () => {
    const a = await putArtifact(
      ctx,
      amiArtifact({
        images: [
          ['us-east-1', 'ami-0000aaaa'],
          ['eu-west-1', 'ami-0000aaab'],
        ],
      }),
    );
    const b = await putArtifact(
      ctx,
      amiArtifact({
        images: [
          ['us-east-1', 'ami-0000bbbb'],
          ['eu-west-1', 'ami-0000bbbc'],
        ],
      }),
    );
    await promoteChannel(ctx, ref, a.artifactId);
    expect(await parameter('/kiln/web/amazon-ebs.base/prod')).toEqual({
      value: 'ami-0000aaaa',
      dataType: 'aws:ec2:image',
    });
    const second = await promoteChannel(ctx, ref, b.artifactId);
    expect(second.parameters.map((p) => p.region).sort()).toEqual(['eu-west-1', 'us-east-1']);
    expect(await parameter('/kiln/web/amazon-ebs.base/prod')).toEqual({
      value: 'ami-0000bbbb',
      dataType: 'aws:ec2:image',
    });
    expect((await parameter('/kiln/web/amazon-ebs.base/prod', 'eu-west-1')).value).toBe('ami-0000bbbc');

    const back = await rollbackChannel(ctx, ref);
    expect(back.state).toMatchObject({ version: 3, current: a.artifactId, previous: [] });
    expect(await parameter('/kiln/web/amazon-ebs.base/prod')).toEqual({
      value: 'ami-0000aaaa',
      dataType: 'aws:ec2:image',
    });
    expect((await parameter('/kiln/web/amazon-ebs.base/prod', 'eu-west-1')).value).toBe('ami-0000aaab');
    expect((await channelHistory(ctx, ref)).map((c) => [c.version, c.action, c.artifactId, c.replaced])).toEqual([
      [1, 'promote', a.artifactId, undefined],
      [2, 'promote', b.artifactId, a.artifactId],
      [3, 'rollback', a.artifactId, b.artifactId],
    ]);
    const err = await rollbackChannel(ctx, ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).code).toBe('NoPreviousAssignment');
    expect((await getChannel(ctx, ref)).version).toBe(3);
  });

  it('publishes a container image as its pinned reference, as text', async () => {
    const image = await putArtifact(ctx, imageArtifact());
    const r = { template: 'app', build: 'docker.app', channel: 'latest' };
    await promoteChannel(ctx, r, image.artifactId);
    const digest = (image.content as { digest: string }).digest;
    expect(await parameter('/kiln/app/docker.app/latest')).toEqual({
      value: `111122223333.dkr.ecr.us-east-1.amazonaws.com/app@${digest}`,
      dataType: 'text',
    });
  });

  it('refuses an unknown artifact and one of another build, changing nothing', async () => {
    const other = await putArtifact(ctx, amiArtifact({ build: 'amazon-ebs.other' }));
    for (const [id, code] of [
      ['ka-0000000000000000', 'NotFound'],
      [other.artifactId, 'WrongBuild'],
    ] as const) {
      const err = await promoteChannel(ctx, ref, id).catch((e: unknown) => e);
      expect((err as RegistryError).code).toBe(code);
    }
    expect(await listChannels(ctx, 'web')).toEqual([]);
  });

  it('a write computed from a stale version conflicts and writes nothing', async () => {
    const a = await putArtifact(ctx, amiArtifact());
    const b = await putArtifact(ctx, amiArtifact());
    const read = await getChannel(ctx, ref);
    await promoteChannel(ctx, ref, a.artifactId);
    const stale = promote(read, b, '2026-03-01T00:00:00.000Z');
    const err = await writeTransition(ctx, read.version, stale).catch((e: unknown) => e);
    expect((err as RegistryError).code).toBe('Conflict');
    expect((await getChannel(ctx, ref)).current).toBe(a.artifactId);
    expect(await channelHistory(ctx, ref)).toHaveLength(1);
  });

  it('concurrent promotions all land in the history; the head and the parameter agree', async () => {
    const arts = [];
    for (let i = 0; i < 3; i++) arts.push(await putArtifact(ctx, amiArtifact()));
    const results = await Promise.allSettled(arts.map((a) => promoteChannel(ctx, ref, a.artifactId)));
    const history = await channelHistory(ctx, ref);
    // Each writer can lose only to the other two, and reads again up to CHANNEL_WRITE_ATTEMPTS (3) times: all land.
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    const landed = results.length;
    // Nothing is lost: one history entry per promotion, versions 1..n without gaps, each artifact once.
    expect(history.map((c) => c.version)).toEqual([1, 2, 3]);
    expect(new Set(history.map((c) => c.artifactId))).toEqual(new Set(arts.map((a) => a.artifactId)));
    const head = await getChannel(ctx, ref);
    expect(head.version).toBe(landed);
    expect(head.current).toBe(history.at(-1)?.artifactId);
    const current = arts.find((a) => a.artifactId === head.current);
    const ami = current?.content.kind === 'ami' ? current.content.images[0]?.imageId : undefined;
    expect((await parameter('/kiln/web/amazon-ebs.base/prod')).value).toBe(ami);
  });
});

describe('kiln channels and kiln artifacts', () => {
  const connect: RegistryConnect = (region) => ({
    dynamo: new DynamoDBClient(localClientConfig(moto.endpoint, region)),
    ssm,
  });
  async function kiln(argv: string[], env: Record<string, string> = { KILN_REGISTRY_TABLE: TABLE }) {
    const io = bufferedIO({ env, now: () => new Date('2026-03-01T12:00:00.000Z') });
    const code = await runCli(argv, io, commandHandlers(io, connect));
    return { code, stdout: io.stdout(), stderr: io.stderr() };
  }

  it('promotes, lists, rolls back and says when there is nothing to roll back to', async () => {
    const a = await putArtifact(ctx, amiArtifact({ images: [['us-east-1', 'ami-0000c0a0']] }));
    const b = await putArtifact(ctx, amiArtifact({ images: [['us-east-1', 'ami-0000c0b0']] }));
    const p1 = await kiln(['channels', 'promote', 'web', 'amazon-ebs.base', 'prod', a.artifactId]);
    expect(p1).toMatchObject({ code: 0, stderr: '' });
    expect(p1.stdout).toContain(`Promoted web amazon-ebs.base prod: (none) → ${a.artifactId} (version 1)`);
    expect(p1.stdout).toContain('us-east-1  /kiln/web/amazon-ebs.base/prod = ami-0000c0a0 (aws:ec2:image)');
    const p2 = await kiln(
      ['channels', 'promote', '--table', TABLE, 'web', 'amazon-ebs.base', 'prod', b.artifactId],
      {},
    );
    expect(p2.code).toBe(0);
    expect((await parameter('/kiln/web/amazon-ebs.base/prod')).value).toBe('ami-0000c0b0');

    const list = await kiln(['channels', 'list', 'web']);
    expect(list.code).toBe(0);
    const [header, , row] = list.stdout.split('\n');
    expect(header).toMatch(/^BUILD +CHANNEL +ARTIFACT +VERSION +ROLLBACK TO +UPDATED +PARAMETER$/);
    expect(row?.split(/ {2,}/)).toEqual([
      'amazon-ebs.base',
      'prod',
      b.artifactId,
      '2',
      a.artifactId,
      '2026-03-01T12:00:00.000Z',
      '/kiln/web/amazon-ebs.base/prod',
    ]);

    const back = await kiln(['channels', 'rollback', 'web', 'amazon-ebs.base', 'prod']);
    expect(back.code).toBe(0);
    expect(back.stdout).toContain(
      `Rolled back web amazon-ebs.base prod: ${b.artifactId} → ${a.artifactId} (version 3)`,
    );
    expect(await parameter('/kiln/web/amazon-ebs.base/prod')).toEqual({
      value: 'ami-0000c0a0',
      dataType: 'aws:ec2:image',
    });
    const none = await kiln(['channels', 'rollback', 'web', 'amazon-ebs.base', 'prod']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^Error: channel prod of web amazon-ebs.base has only ever held .*promote an artifact/);

    const json = await kiln(['channels', 'list', 'web', '--json']);
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({
        channel: 'prod',
        current: a.artifactId,
        version: 3,
        parameter: '/kiln/web/amazon-ebs.base/prod',
      }),
    ]);
  });

  it('lists artifacts newest first with lineage, marking those whose parent has a newer version', async () => {
    const base1 = await putArtifact(
      ctx,
      amiArtifact({
        template: 'base',
        build: 'os',
        createdAt: '2026-01-01T00:00:00.000Z',
        images: [['us-east-1', 'ami-0000ba01']],
      }),
    );
    const child = await putArtifact(
      ctx,
      amiArtifact({
        createdAt: '2026-01-05T00:00:00.000Z',
        source: { kind: 'ami', region: 'us-east-1', imageId: 'ami-0000ba01' },
      }),
    );
    const before = await kiln(['artifacts', 'list', 'web']);
    expect(before.code).toBe(0);
    expect(before.stdout).toContain(base1.artifactId);
    expect(before.stdout).not.toContain('(outdated)');
    await putArtifact(ctx, amiArtifact({ template: 'base', build: 'os', createdAt: '2026-02-01T00:00:00.000Z' }));
    const after = await kiln(['artifacts', 'list', 'web', '--json']);
    expect(JSON.parse(after.stdout)).toEqual([
      expect.objectContaining({
        artifactId: child.artifactId,
        parent: expect.objectContaining({ artifactId: base1.artifactId }),
        outdated: true,
      }),
    ]);
    const text = await kiln(['artifacts', 'list', 'web']);
    expect(text.stdout).toContain(`${base1.artifactId} (outdated)`);
    expect(text.stdout).toMatch(/^ARTIFACT +BUILD +CREATED +KIND +CONTENT +PARENT +STATUS\n/);
    expect((await kiln(['artifacts', 'list', 'web', '--build', 'other'])).stdout).toBe('No artifacts for web other.\n');
  });

  it('names what is missing: the table, the artifact', async () => {
    const noTable = await kiln(['channels', 'list', 'web'], {});
    expect(noTable.code).toBe(1);
    expect(noTable.stderr).toContain('pass --table <name> or set KILN_REGISTRY_TABLE');
    const missing = await kiln(['channels', 'promote', 'web', 'amazon-ebs.base', 'prod', 'ka-0123456789abcdef']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('Error: no artifact ka-0123456789abcdef (see `kiln artifacts list <template>`)\n');
    const noSuchTable = await kiln(['channels', 'list', 'web', '--table', 'nope', '--region', 'us-east-1']);
    expect(noSuchTable).toMatchObject({ code: 1, stdout: '' });
    expect(noSuchTable.stderr).toBe(
      'Error: table nope was not found in us-east-1: check --table and --region (or KILN_REGISTRY_TABLE)\n',
    );
    const badName = await kiln(['channels', 'rollback', 'web', 'amazon-ebs.base', 'pr/od']);
    expect(badName.code).toBe(1);
    expect(badName.stderr).toMatch(/^Error: channel name "pr\/od" must be/);
  });
});
