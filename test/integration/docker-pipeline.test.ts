/**
 * The docker reference template end to end in the local emulator, with a real container engine: the example
 * bundle (examples/docker-python-app/, the template unchanged) uploaded as a .tar.gz starts the real state
 * machine, whose ec2-docker branch launches a docker host (moto), sends each host step through the SSM stand-in,
 * where podman (behind the `docker` wrapper) pulls the python:3.9-slim stand-in, runs the app's unit tests in the
 * container, commits and pushes to the ECR front, which bridges the push into moto's ECR. Asserted against moto,
 * the registry and podman: the digest in ECR, the manifest and the registry record agree, the pushed image runs,
 * the host pulled and ran the base image by the digest PrepareBuild resolved, which is the one the artifact records,
 * and a failing test fails the build with no container, no host and no build tag left.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCommandInvocationCommand, ListCommandsCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getArtifact } from '../../aws/image-registry-store.ts';
import { MANIFEST_ACCEPT } from '../../functions/lib/registry-digest.ts';
import { LOCAL_ACCOUNT, localClientConfig } from '../../harness/clients.ts';
import { STANDIN_REPOSITORY, STANDIN_TAG } from '../../harness/containers/standin.ts';
import {
  followExecution,
  type KilnLocal,
  nextPumpedStart,
  runPushedImage,
  startKilnLocal,
  uploadTemplateBundle,
} from '../../harness/kiln-local.ts';

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');
const REFERENCE = readFileSync(join(EXAMPLES, 'docker-python-app.json'), 'utf8');
const BUILD_TIMEOUT_MS = 420_000;

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
    cleanup?: { steps: { action: string; outcome: string }[] };
    registry?: { artifactId: string; channelParameter?: string };
  }[];
}

/** Containers of a build on this machine (the docker hosts' engine), by Kiln's label. */
function containersOf(buildId: string, env: Readonly<Record<string, string>>): string[] {
  const ps = spawnSync('docker', ['ps', '-aq', '--filter', `label=kiln.build-id=${buildId}`], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  expect(ps.status, ps.stderr).toBe(0);
  return ps.stdout.split('\n').filter(Boolean);
}

describe('docker reference template in the local emulator (real podman)', () => {
  let kiln: KilnLocal;
  const s3 = () => new S3Client(localClientConfig(kiln.aws.endpoint));
  const ecr = () => new ECRClient(localClientConfig(kiln.aws.endpoint));

  async function build(dir: string, key: string) {
    const before = kiln.pump.starts.length;
    await uploadTemplateBundle(kiln.aws.endpoint, kiln.deployment.templateBucket, key, dir);
    const start = await nextPumpedStart(kiln.pump, before);
    expect(start.error).toBeUndefined();
    const done = await followExecution(kiln.aws.endpoint, start.executionArn ?? '', undefined, {
      timeoutMs: BUILD_TIMEOUT_MS,
    });
    return { status: done.status, output: JSON.parse(done.result ?? '{}') as BuildOutput };
  }

  const liveInstances = async (buildId: string) =>
    (
      await new EC2Client(localClientConfig(kiln.aws.endpoint)).send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: 'tag:kiln:build-id', Values: [buildId] },
            { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
          ],
        }),
      )
    ).Reservations?.flatMap((r) => r.Instances ?? []) ?? [];

  beforeAll(async () => {
    kiln = await startKilnLocal({ containers: true });
  }, 300_000);
  afterAll(async () => {
    await kiln?.stop();
  });

  it('the bundles carry the reference template unchanged', () => {
    for (const dir of ['docker-python-app', 'docker-python-app-failing']) {
      expect(readFileSync(join(EXAMPLES, dir, 'docker-python-app.json'), 'utf8'), dir).toBe(REFERENCE);
    }
  });

  it('builds, tests and pushes the app; ECR, the manifest and the registry agree on the digest; the image runs', {
    timeout: BUILD_TIMEOUT_MS,
  }, async () => {
    const { status, output } = await build(join(EXAMPLES, 'docker-python-app'), 'templates/docker-python-app.tar.gz');
    expect(output.builds[0]?.cause ?? '').toBe('');
    expect(status).toBe('SUCCEEDED');
    const [result] = output.builds;
    expect(result).toMatchObject({ name: 'docker', status: 'SUCCEEDED' });

    // ECR (moto, fed by the ECR front) holds the image under the template's tag and the build id.
    const images = await ecr().send(new DescribeImagesCommand({ repositoryName: 'my-python-app' }));
    const pushed = images.imageDetails?.find((d) => d.imageTags?.includes(output.buildId));
    expect(pushed?.imageTags?.sort()).toEqual([output.buildId, 'latest'].sort());
    const digest = pushed?.imageDigest ?? '';
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    // The registry's own digest for the push is the one ECR reports.
    expect(kiln.aws.containers?.pushes().map((p) => p.digest)).toContain(digest);

    const uri = `${LOCAL_ACCOUNT}.dkr.ecr.${kiln.deployment.region}.amazonaws.com/my-python-app`;
    expect(result?.artifactId).toBe(`${uri}@${digest}`);
    const manifestKey = output.manifest.replace(`s3://${kiln.deployment.artifactsBucket}/`, '');
    const object = await s3().send(new GetObjectCommand({ Bucket: kiln.deployment.artifactsBucket, Key: manifestKey }));
    const manifest = JSON.parse((await object.Body?.transformToString()) ?? '{}') as {
      builds: { builder_type: string; artifact_id: string; kiln_pushed_images?: { digest: string }[] }[];
    };
    expect(manifest.builds[0]).toMatchObject({ builder_type: 'docker', artifact_id: 'my-python-app' });
    expect(manifest.builds[0]?.kiln_pushed_images?.[0]?.digest).toBe(digest);
    expect(result?.registry?.artifactId).toMatch(/^ka-[0-9a-f]{16}$/);

    // The base image: PrepareBuild resolved python:3.9-slim to the registry's digest, the host pulled and ran that
    // digest (the prepare command the SSM stand-in ran, and its output), and the artifact records the same digest.
    const head = await fetch(
      `http://${kiln.aws.containers?.registry}/v2/${STANDIN_REPOSITORY}/manifests/${STANDIN_TAG}`,
      { method: 'HEAD', headers: { Accept: MANIFEST_ACCEPT } },
    );
    const baseDigest = head.headers.get('docker-content-digest') ?? '';
    expect(baseDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const ssm = new SSMClient(localClientConfig(kiln.aws.endpoint, kiln.deployment.region));
    const prepare = (await ssm.send(new ListCommandsCommand({}))).Commands?.find(
      (c) => c.Comment === `kiln ${output.buildId} b0 p0 a0`,
    );
    const script = (prepare?.Parameters?.commands ?? []).join('\n');
    expect(script).toContain(`docker pull -- python@${baseDigest}`);
    expect(script).toContain(`--entrypoint=/bin/sh -- python@${baseDigest} </dev/null`);
    expect(script).not.toContain('docker pull -- python:3.9-slim');
    const invocation = await ssm.send(
      new GetCommandInvocationCommand({
        CommandId: prepare?.CommandId ?? '',
        InstanceId: prepare?.InstanceIds?.[0] ?? '',
      }),
    );
    expect(invocation.StandardOutputContent).toContain(`pulling python:3.9-slim pinned to ${baseDigest}`);
    const artifact = await getArtifact(
      {
        dynamo: new DynamoDBClient(localClientConfig(kiln.aws.endpoint)),
        table: kiln.deployment.outputs.RegistryTableName ?? '',
        ssm: (region: string) => new SSMClient(localClientConfig(kiln.aws.endpoint, region)),
        homeRegion: kiln.deployment.region,
      },
      result?.registry?.artifactId ?? '',
    );
    expect(artifact?.source).toEqual({ kind: 'image', reference: 'python:3.9-slim', digest: baseDigest });

    // Pull the pushed image back by digest (logged in as a user of the registry) and run the app in it.
    // The committed image keeps the build container's entrypoint, /bin/sh (Packer's default run_command).
    const run = await runPushedImage(kiln, `${uri}@${digest}`, [
      '-c',
      `python -c 'import app; print(app.welcome("Kiln"))'`,
    ]);
    // stderr carries the pull's progress; the exit code and the app's answer are what count.
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe('Hello, Kiln!');

    expect(containersOf(output.buildId, kiln.aws.containers?.env ?? {})).toEqual([]);
    expect(await liveInstances(output.buildId)).toEqual([]);
  });

  it('a failing unit test fails the build: container and host gone, nothing pushed under its build id', {
    timeout: BUILD_TIMEOUT_MS,
  }, async () => {
    const { output } = await build(
      join(EXAMPLES, 'docker-python-app-failing'),
      'templates/docker-python-app-failing.tar.gz',
    );
    const [result] = output.builds;
    expect(result).toMatchObject({ status: 'FAILED', error: 'Kiln.ProvisionerFailed' });
    expect(result?.cause).toContain('Bonjour');
    expect(result?.cleanup?.steps.map((s) => `${s.action}:${s.outcome}`)).toEqual(
      expect.arrayContaining(['remove-containers:removed', 'terminate-instance:removed']),
    );
    expect(containersOf(output.buildId, kiln.aws.containers?.env ?? {})).toEqual([]);
    expect(await liveInstances(output.buildId)).toEqual([]);
    const images = await ecr()
      .send(new DescribeImagesCommand({ repositoryName: 'my-python-app' }))
      .catch(() => ({ imageDetails: [] }));
    expect(images.imageDetails?.some((d) => d.imageTags?.includes(output.buildId))).toBe(false);
  });
});
