/**
 * The amazon-ebs pipeline end to end in the local emulator: a template folder uploaded to the template bucket
 * starts the real state machine (moto's interpreter), which drives the real handlers (the router), whose
 * provisioners run as real shell scripts (the SSM shim). Everything is asserted against moto's state.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  type Image,
} from '@aws-sdk/client-ec2';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryTemplateName } from '../../aws/image-registry-records.ts';
import { getArtifact, getChannel } from '../../aws/image-registry-store.ts';
import { channelParameterName } from '../../core/image-registry/parameter.ts';
import { localClientConfig } from '../../harness/clients.ts';
import { EXAMPLE_TEMPLATE_DIR, EXAMPLE_TEMPLATE_FILE } from '../../harness/example.ts';
import { formatDenials, type IamGuard } from '../../harness/iam-guard.ts';
import {
  followExecution,
  type KilnLocal,
  nextPumpedStart,
  startKilnLocal,
  uploadTemplateFolder,
} from '../../harness/kiln-local.ts';

const EXAMPLE_DIR = EXAMPLE_TEMPLATE_DIR;
const TEMPLATE = EXAMPLE_TEMPLATE_FILE;
const COPY_REGION = 'eu-west-1';

interface BuildOutput {
  buildId: string;
  status: string;
  manifest: string;
  builds: {
    name: string;
    status: string;
    artifactId?: string;
    error?: string;
    cause?: string;
    registry?: { artifactId: string; channelParameter?: string };
  }[];
}

describe('amazon-ebs pipeline in the local emulator', () => {
  let kiln: KilnLocal;
  const ec2 = (region = 'us-east-1') => new EC2Client(localClientConfig(kiln.aws.endpoint, region));
  const s3 = () => new S3Client(localClientConfig(kiln.aws.endpoint));

  /** Uploads a template folder, waits for the build it starts, returns the execution output. */
  async function build(
    dir: string,
    prefix: string,
  ): Promise<{ status?: string; error?: string; cause?: string; output: BuildOutput }> {
    const before = kiln.pump.starts.length;
    await uploadTemplateFolder(kiln.aws.endpoint, kiln.deployment.templateBucket, prefix, dir, TEMPLATE);
    const start = await nextPumpedStart(kiln.pump, before);
    expect(start.error).toBeUndefined();
    const done = await followExecution(kiln.aws.endpoint, start.executionArn ?? '', undefined, { timeoutMs: 300_000 });
    return {
      status: done.status,
      error: done.error,
      cause: done.cause,
      output: JSON.parse(done.result ?? '{}') as BuildOutput,
    };
  }

  const imagesOfBuild = async (buildId: string, region: string): Promise<Image[]> =>
    (
      await ec2(region).send(
        new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'tag:kiln:build-id', Values: [buildId] }] }),
      )
    ).Images ?? [];

  const liveInstancesOfBuild = async (buildId: string) =>
    (
      await ec2().send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: 'tag:kiln:build-id', Values: [buildId] },
            { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
          ],
        }),
      )
    ).Reservations?.flatMap((r) => r.Instances ?? []) ?? [];

  const objectsUnder = async (prefix: string): Promise<string[]> =>
    (
      await s3().send(new ListObjectsV2Command({ Bucket: kiln.deployment.artifactsBucket, Prefix: prefix }))
    ).Contents?.map((o) => o.Key ?? '') ?? [];

  beforeAll(async () => {
    kiln = await startKilnLocal();
  }, 240_000);

  /**
   * A build runs every function in its own process, from its synthesized bundle; the whole build takes about a
   * minute on a loaded two-core machine (load average 10), mostly the state machine's real-time waits and moto.
   */
  const BUILD_TIMEOUT_MS = 240_000;
  afterAll(async () => {
    await kiln?.stop();
  });

  it('builds the AMI, copies it to the second region, tags both, and leaves nothing behind', {
    timeout: BUILD_TIMEOUT_MS,
  }, async () => {
    const { status, output } = await build(EXAMPLE_DIR, 'templates/amazon-ebs-basic');
    expect(status).toBe('SUCCEEDED');
    expect(output.status).toBe('SUCCEEDED');
    const [result] = output.builds;
    expect(result).toMatchObject({ name: 'amazon-ebs.web', status: 'SUCCEEDED' });

    // The AMI and its copy, tagged as the template says (plus Kiln's own tags).
    const [home] = await imagesOfBuild(output.buildId, 'us-east-1');
    const [copy] = await imagesOfBuild(output.buildId, COPY_REGION);
    for (const image of [home, copy]) {
      expect(image?.State).toBe('available');
      expect(image?.Name).toMatch(/^kiln-example-web-1\.4\.2-\d{14}$/);
      const tags = Object.fromEntries((image?.Tags ?? []).map((t) => [t.Key, t.Value]));
      expect(tags).toMatchObject({ Name: 'kiln-example-web', Version: '1.4.2', Team: 'platform' });
    }
    // The home AMI's snapshot carries the build tag from its creation (CreateImage TagSpecifications).
    const snapshotId = home?.BlockDeviceMappings?.find((m) => m.Ebs?.SnapshotId)?.Ebs?.SnapshotId;
    const snapshots = await ec2().send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId ?? 'none'] }));
    expect(snapshots.Snapshots?.[0]?.Tags).toEqual(
      expect.arrayContaining([{ Key: 'kiln:build-id', Value: output.buildId }]),
    );
    expect(result?.artifactId?.split(',').sort()).toEqual([
      `${COPY_REGION}:${copy?.ImageId}`,
      `us-east-1:${home?.ImageId}`,
    ]);

    // The manifest, in Packer's format, next to the build's records.
    const manifestKey = output.manifest.replace(`s3://${kiln.deployment.artifactsBucket}/`, '');
    const manifestObject = await s3().send(
      new GetObjectCommand({ Bucket: kiln.deployment.artifactsBucket, Key: manifestKey }),
    );
    const manifest = JSON.parse((await manifestObject.Body?.transformToString()) ?? '{}') as {
      builds: { name: string; builder_type: string; artifact_id: string }[];
    };
    expect(manifest.builds).toHaveLength(1);
    expect(manifest.builds[0]).toMatchObject({ name: 'amazon-ebs.web', builder_type: 'amazon-ebs' });
    expect(manifest.builds[0]?.artifact_id).toContain(`us-east-1:${home?.ImageId}`);

    // The image registry: the artifact (both AMIs with their snapshots, the source AMI), on `latest`, whose
    // parameter holds the AMI id in each region.
    const registry = {
      dynamo: new DynamoDBClient(localClientConfig(kiln.aws.endpoint)),
      table: kiln.deployment.outputs.RegistryTableName ?? '',
      ssm: (region: string) => new SSMClient(localClientConfig(kiln.aws.endpoint, region)),
      homeRegion: 'us-east-1',
    };
    const artifactId = result?.registry?.artifactId ?? '';
    const artifact = await getArtifact(registry, artifactId);
    const template = registryTemplateName(`amazon-ebs-basic/${TEMPLATE}`);
    expect(artifact).toMatchObject({ template, build: 'amazon-ebs.web', buildId: output.buildId });
    expect(artifact?.content.kind === 'ami' ? artifact.content.images.map((i) => i.imageId).sort() : []).toEqual(
      [home?.ImageId, copy?.ImageId].sort(),
    );
    const homeImage = artifact?.content.kind === 'ami' ? artifact.content.images : [];
    expect(homeImage.find((i) => i.region === 'us-east-1')?.snapshotIds).toContain(snapshotId);
    expect(artifact?.source).toMatchObject({ kind: 'ami', region: 'us-east-1' });
    expect((await getChannel(registry, { template, build: 'amazon-ebs.web', channel: 'latest' })).current).toBe(
      artifactId,
    );
    const parameter = result?.registry?.channelParameter ?? '';
    expect(parameter).toBe(channelParameterName({ template, build: 'amazon-ebs.web', channel: 'latest' }));
    expect(template).toBe('amazon-ebs-basic/amazon-ebs-basic');
    for (const [region, image] of [
      ['us-east-1', home],
      [COPY_REGION, copy],
    ] as const) {
      const got = await registry.ssm(region).send(new GetParameterCommand({ Name: parameter }));
      expect(got.Parameter?.Value).toBe(image?.ImageId);
    }

    // The provisioners really ran, in order, on the simulated instance.
    const commands = kiln.aws.router.shim.allCommands();
    expect(commands.length).toBeGreaterThanOrEqual(3);
    const invocations = commands.flatMap((c) => [...c.invocations.values()]);
    expect(invocations.every((i) => i.status === 'Success')).toBe(true);
    expect(invocations.map((i) => i.stdout ?? '').join('\n')).toContain('installed site version 1.4.2');

    // Nothing left: the builder is terminated and the staged scripts and files are gone.
    expect(await liveInstancesOfBuild(output.buildId)).toEqual([]);
    expect(await objectsUnder(`builds/${output.buildId}/files/`)).toEqual([]);

    // Every Lambda invocation ran a synthesized bundle, as deployed; no source ever stood in.
    const lambdas = kiln.aws.router.invoker.invocations;
    expect(lambdas.length).toBeGreaterThanOrEqual(10);
    expect(lambdas.filter((i) => i.code !== 'bundles')).toEqual([]);
  });

  it('fails the build with the provisioner exit code and cleans up everything it created', {
    timeout: BUILD_TIMEOUT_MS,
  }, async () => {
    // The example plus a last provisioner that fails, in a folder of its own.
    const dir = mkdtempSync(join(tmpdir(), 'kiln-failing-'));
    cpSync(EXAMPLE_DIR, dir, { recursive: true });
    const text = readFileSync(join(dir, TEMPLATE), 'utf8');
    const failing = 'provisioner "shell" {\n    inline = ["echo about to fail", "exit 3"]\n  }\n';
    writeFileSync(join(dir, TEMPLATE), text.replace(/\n}\s*$/, `\n  ${failing}}\n`));

    const { status, output, error, cause } = await build(dir, 'templates/amazon-ebs-failing');
    // Packer exits non-zero when a build fails; so does the execution, after Finalize recorded everything.
    expect(status).toBe('FAILED');
    expect(error).toBe('Kiln.BuildFailed');
    expect(cause).toBe('1 of 1 builds failed: amazon-ebs.web (Kiln.ProvisionerFailed)');
    expect(output.status).toBe('FAILED');
    const [result] = output.builds;
    expect(result?.status).toBe('FAILED');
    expect(result?.error).toBe('Kiln.ProvisionerFailed');
    expect(result?.cause).toMatch(/\b3\b/);

    const failed = kiln.aws.router.shim
      .allCommands()
      .flatMap((c) => [...c.invocations.values()])
      .filter((i) => i.status === 'Failed');
    expect(failed.map((i) => i.exitCode)).toEqual([3]);

    expect(await liveInstancesOfBuild(output.buildId)).toEqual([]);
    expect(await imagesOfBuild(output.buildId, 'us-east-1')).toEqual([]);
    expect(await imagesOfBuild(output.buildId, COPY_REGION)).toEqual([]);
    expect(await objectsUnder(`builds/${output.buildId}/files/`)).toEqual([]);
  });

  it('made only calls AWS would allow, conditions included, on the success and the failure path (IAM replay)', async () => {
    // Runs after both builds: Cleanup's compensation (terminate, delete what the failed build made) is in it.
    await kiln.aws.router.shim.idle();
    const iam = kiln.aws.router.iam as IamGuard;
    const report = await iam.replay();
    expect(formatDenials(report.denied)).toBe('');
    expect(report.checked).toBeGreaterThan(100);
    expect(Object.keys(report.unmodelled)).toEqual([]);
  });
});
