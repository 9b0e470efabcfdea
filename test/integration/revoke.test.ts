/**
 * Revoke on the emulator (moto's DynamoDB, SSM and EC2 in two regions), through `kiln artifacts revoke|show`:
 * a base AMI, an artifact built from it and one built from that (lineage through the source AMI, child pointers
 * written by putArtifact); revoke --cascade marks all three with who, why and when and deprecates each AMI in every
 * region it has one; without --cascade only the one; a revoked artifact cannot be promoted or rolled back onto; a
 * retried pipeline write keeps the revoke; show gives content, lineage, channels and status.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CopyImageCommand,
  CreateImageCommand,
  DescribeImagesCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  childrenOf,
  getArtifact,
  getChannel,
  promoteChannel,
  putArtifact,
  type RegistryContext,
} from '../../aws/image-registry-store.ts';
import { bufferedIO } from '../../cli/io.ts';
import { commandHandlers, runCli } from '../../cli/program.ts';
import type { RegistryConnect } from '../../cli/registry.ts';
import { type Artifact, artifactIdFor } from '../../core/image-registry/artifact.ts';
import { localClientConfig } from '../../harness/clients.ts';
import { type MotoServer, startMoto } from '../../harness/moto.ts';
import { createRegistryTable } from './registry-table.ts';

const HOME = 'us-east-1';
const COPY = 'eu-west-1';
const TABLE = 'kiln-registry';
const CALLER = 'arn:aws:iam::123456789012:user/release-manager';
let moto: MotoServer;
let ctx: RegistryContext;
const clients = new Map<string, EC2Client | SSMClient>();
function cached<C extends EC2Client | SSMClient>(key: string, make: () => C): C {
  let client = clients.get(key);
  if (!client) {
    client = make();
    clients.set(key, client);
  }
  return client as C;
}
const ec2 = (region: string) => cached(`ec2 ${region}`, () => new EC2Client(localClientConfig(moto.endpoint, region)));
const ssm = (region: string) => cached(`ssm ${region}`, () => new SSMClient(localClientConfig(moto.endpoint, region)));

beforeAll(async () => {
  moto = await startMoto();
}, 60_000);
afterAll(async () => {
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  clients.clear();
  const dynamo = new DynamoDBClient(localClientConfig(moto.endpoint, HOME));
  await createRegistryTable(dynamo, TABLE);
  ctx = { dynamo, table: TABLE, ssm, homeRegion: HOME };
});

const connect: RegistryConnect = (region) => ({
  dynamo: new DynamoDBClient(localClientConfig(moto.endpoint, region)),
  ssm,
  ec2,
  identity: async () => CALLER,
});
async function kiln(argv: string[]) {
  const io = bufferedIO({ env: { KILN_REGISTRY_TABLE: TABLE }, now: () => new Date('2026-03-01T12:00:00.000Z') });
  const code = await runCli(argv, io, commandHandlers(io, connect));
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

/** An AMI in both regions, recorded as an artifact of `template` built from `source` (an AMI id in HOME). */
async function built(template: string, n: number, source?: string): Promise<Artifact> {
  const from = source ?? (await ec2(HOME).send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.[0]?.ImageId;
  const run = await ec2(HOME).send(
    new RunInstancesCommand({ ImageId: from, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' }),
  );
  const home = await ec2(HOME).send(
    new CreateImageCommand({ InstanceId: run.Instances?.[0]?.InstanceId, Name: `${template}-${n}` }),
  );
  const copy = await ec2(COPY).send(
    new CopyImageCommand({ SourceImageId: home.ImageId, SourceRegion: HOME, Name: `${template}-${n}` }),
  );
  const buildId = `b-${template}-${n}`;
  return putArtifact(ctx, {
    artifactId: artifactIdFor(buildId, 'amazon-ebs.os'),
    template,
    build: 'amazon-ebs.os',
    buildId,
    createdAt: new Date(Date.UTC(2026, 1, n)).toISOString(),
    content: {
      kind: 'ami',
      images: [
        { region: HOME, imageId: home.ImageId ?? '', snapshotIds: [] },
        { region: COPY, imageId: copy.ImageId ?? '', snapshotIds: [] },
      ],
    },
    ...(source ? { source: { kind: 'ami', region: HOME, imageId: source } } : {}),
  });
}
const homeAmi = (a: Artifact) => (a.content.kind === 'ami' ? (a.content.images[0]?.imageId ?? '') : '');
const deprecation = async (region: string, imageId: string) =>
  (await ec2(region).send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images?.[0]?.DeprecationTime;

describe('kiln artifacts revoke', () => {
  it('--cascade revokes the artifact and every descendant, deprecating each AMI in both regions', async () => {
    const base = await built('base', 1);
    const app = await built('app', 2, homeAmi(base));
    const leaf = await built('leaf', 3, homeAmi(app));
    const unrelated = await built('base', 4);
    expect(app.parent?.artifactId).toBe(base.artifactId);
    expect(await childrenOf(ctx, base.artifactId)).toEqual([app.artifactId]);
    await promoteChannel(ctx, { template: 'app', build: 'amazon-ebs.os', channel: 'prod' }, app.artifactId);

    const out = await kiln([
      'artifacts',
      'revoke',
      base.artifactId,
      '--cascade',
      '--reason',
      'CVE-2026-0001 in openssl',
    ]);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const [header, , ...rows] = out.stdout.split('\n');
    expect(header).toMatch(/^ARTIFACT +TEMPLATE +BUILD +KIND +REVOKED +DEPRECATED$/);
    expect(rows.slice(0, 3).map((r) => r.split(/ {2,}/)[0])).toEqual([
      base.artifactId,
      app.artifactId,
      leaf.artifactId,
    ]);
    // The channel still holding a revoked artifact is named, with what to do.
    expect(out.stdout).toContain(
      `Warning: app amazon-ebs.os prod still holds revoked ${app.artifactId}: promote another artifact`,
    );
    for (const a of [base, app, leaf]) {
      const stored = await getArtifact(ctx, a.artifactId);
      expect(stored?.revoked).toEqual({
        at: '2026-03-01T12:00:00.000Z',
        by: CALLER,
        reason: 'CVE-2026-0001 in openssl',
        ...(a === base ? {} : { cascadedFrom: base.artifactId }),
      });
      for (const image of a.content.kind === 'ami' ? a.content.images : []) {
        expect(await deprecation(image.region, image.imageId), `${a.template} ${image.region}`).toBe(
          '2026-03-01T12:00:00.000Z',
        );
      }
    }
    expect((await getArtifact(ctx, unrelated.artifactId))?.revoked).toBeUndefined();
    expect(await deprecation(HOME, homeAmi(unrelated))).toBeUndefined();

    // Promote refuses a revoked artifact, with the reason and what to do instead.
    const promote = await kiln(['channels', 'promote', 'leaf', 'amazon-ebs.os', 'prod', leaf.artifactId]);
    expect(promote.code).toBe(1);
    expect(promote.stderr).toMatch(
      new RegExp(
        `^Error: artifact ${leaf.artifactId} was revoked at .* by ${CALLER} \\(CVE-2026-0001 in openssl; revoked with its ancestor ${base.artifactId}\\), so it cannot be promoted: promote another artifact`,
      ),
    );
    expect((await getChannel(ctx, { template: 'leaf', build: 'amazon-ebs.os', channel: 'prod' })).version).toBe(0);

    // A retried pipeline write of a revoked artifact keeps the revoke.
    const { revoked: _kept, ...asBuilt } = (await getArtifact(ctx, app.artifactId)) as Artifact;
    expect((await putArtifact(ctx, asBuilt)).revoked?.by).toBe(CALLER);
    expect((await getArtifact(ctx, app.artifactId))?.revoked?.by).toBe(CALLER);

    // Revoking again changes nothing and says so.
    const again = await kiln(['artifacts', 'revoke', app.artifactId, '--reason', 'again']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already (2026-03-01T12:00:00.000Z)');
    expect((await getArtifact(ctx, app.artifactId))?.revoked?.reason).toBe('CVE-2026-0001 in openssl');
  });

  it('without --cascade revokes only the one artifact; rollback onto it is refused', async () => {
    const base = await built('base', 1);
    const app1 = await built('app', 2, homeAmi(base));
    const app2 = await built('app', 3, homeAmi(base));
    const ref = { template: 'app', build: 'amazon-ebs.os', channel: 'prod' };
    await promoteChannel(ctx, ref, app1.artifactId);
    await promoteChannel(ctx, ref, app2.artifactId);
    const out = await kiln(['artifacts', 'revoke', app1.artifactId, '--reason', 'bad config', '--json']);
    expect(out.code).toBe(0);
    const json = JSON.parse(out.stdout) as { artifact: Artifact; deprecated: { region: string }[] }[];
    expect(json.map((r) => r.artifact.artifactId)).toEqual([app1.artifactId]);
    expect(json[0]?.deprecated.map((d) => d.region).sort()).toEqual([COPY, HOME]);
    expect((await getArtifact(ctx, base.artifactId))?.revoked).toBeUndefined();
    expect((await getArtifact(ctx, app2.artifactId))?.revoked).toBeUndefined();

    const back = await kiln(['channels', 'rollback', 'app', 'amazon-ebs.os', 'prod']);
    expect(back.code).toBe(1);
    expect(back.stderr).toContain('cannot be rolled back onto: promote the artifact you want on prod instead');
    expect((await getChannel(ctx, ref)).current).toBe(app2.artifactId);
  });

  it('needs --reason; an unknown artifact says how to find one', async () => {
    const missing = await kiln(['artifacts', 'revoke', 'ka-0000000000000000']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/--reason/);
    const unknown = await kiln(['artifacts', 'revoke', 'ka-0000000000000000', '--reason', 'x']);
    expect(unknown).toMatchObject({ code: 1 });
    expect(unknown.stderr).toMatch(/no artifact ka-0000000000000000 \(see `kiln artifacts list <template>`\)/);
  });
});

describe('kiln artifacts show', () => {
  it('shows content per region, lineage both ways, channels and status; --json for scripts', async () => {
    const base = await built('base', 1);
    const app = await built('app', 2, homeAmi(base));
    await built('base', 3); // a newer base: app is outdated
    await promoteChannel(ctx, { template: 'base', build: 'amazon-ebs.os', channel: 'prod' }, base.artifactId);

    const shown = await kiln(['artifacts', 'show', base.artifactId]);
    expect(shown).toMatchObject({ code: 0, stderr: '' });
    expect(shown.stdout).toMatch(/^Artifact: +ka-/);
    expect(shown.stdout).toMatch(/\nStatus: +active\n/);
    expect(shown.stdout).toMatch(new RegExp(`\\nChildren: +${app.artifactId}\\n`));
    expect(shown.stdout).toMatch(/\nChannels: +amazon-ebs\.os prod \(\/kiln\/base\/amazon-ebs\.os\/prod\)\n/);
    expect(shown.stdout).toMatch(new RegExp(`\\nus-east-1 +${homeAmi(base)} +`));
    expect(shown.stdout).toMatch(/\neu-west-1 +ami-/);

    const child = JSON.parse((await kiln(['artifacts', 'show', app.artifactId, '--json'])).stdout);
    expect(child).toMatchObject({
      artifactId: app.artifactId,
      status: 'outdated',
      outdated: true,
      parent: { artifactId: base.artifactId, template: 'base' },
      children: [],
      channels: [],
    });
  });
});
