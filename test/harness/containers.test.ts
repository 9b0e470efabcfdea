/**
 * The docker builder host's containers, for real (harness/containers/): the host scripts core/docker/host.ts
 * renders for the reference template (examples/docker-python-app.json) run under bash with only the agent's
 * environment and the `docker` wrapper (podman) on PATH: pull of the unchanged `python:3.9-slim` through the
 * docker.io mirror (the stand-in), run, build context copied in, the provisioner's pip install and unit tests inside
 * the container, commit, push to the ECR host name. The ECR front bridges the push into moto's ECR with the
 * registry's digest; a repository ECR does not have, or a push without login, fails as ECR does.
 * Needs podman, runc, docker-registry and the stand-in (bash scripts/setup.sh); root (podman storage).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderDockerHost } from '../../core/docker/host.ts';
import { planTemplate } from '../../core/plan/plan.ts';
import { loadTemplate } from '../../core/validation/load.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION, localClientConfig } from '../../harness/clients.ts';
import { AGENT_PATH, sandboxParent } from '../../harness/command-runner.ts';
import { type ContainerHost, startContainerHost } from '../../harness/containers/host.ts';
import { STANDIN_SCRIPT, standinDir } from '../../harness/containers/standin.ts';
import { type MotoServer, startMoto } from '../../harness/moto.ts';
import { freePort } from '../../harness/ports.ts';
import { shellcheck } from '../unit/docker/fake-docker.ts';

const ECR_HOST = `${LOCAL_ACCOUNT}.dkr.ecr.${LOCAL_REGION}.amazonaws.com`;
/** Names no other test run uses: podman's storage (/var/lib/containers) is the machine's. */
const RUN = randomBytes(4).toString('hex');
const REPOSITORY = `kiln-test-${RUN}/app`;
const BUILD_ID = `kb-ct-${RUN}`;

/**
 * Removes this run's image names (by tag, or by digest for pulls by digest), never an image id: a tag of the shared
 * base image (the missing-repository test tags python:3.9-slim) must not take the base image with it.
 */
const REMOVE_OWN_IMAGES = [
  `{ docker images --format '{{.Repository}}:{{.Tag}}'; docker images --digests --format '{{.Repository}}@{{.Digest}}'; }`,
  `grep -F 'kiln-test-${RUN}/' | grep -v -e ':<none>$' -e '@<none>$' | sort -u | xargs -r docker rmi`,
].join(' | ');

let moto: MotoServer;
let host: ContainerHost;
let ecr: ECRClient;
let work: string;
let contextServer: Server;
let contextUrl: string;
const timings: Record<string, number> = {};

interface Ran {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * bash as the SSM agent runs it: the agent's PATH with the wrapper first, no HOME, stdin closed. Asynchronous: the
 * ECR front answers from this process, so a synchronous spawn would deadlock every push.
 */
function onHost(script: string, step: string): Promise<Ran> {
  const file = join(work, `${step}.sh`);
  writeFileSync(file, script, { mode: 0o700 });
  const started = Date.now();
  const child = spawn('bash', [file], {
    cwd: work,
    env: { PATH: `${host.binDir}:${AGENT_PATH}` },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 300_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  return new Promise((resolve) => {
    child.once('close', (status) => {
      timings[step] = Date.now() - started;
      resolve({ status, stdout, stderr });
    });
  });
}
/** An ad-hoc command on the host, with registry credentials of its own (never the machine's default auth file). */
const sh = (command: string, step: string) =>
  onHost(
    `#!/bin/bash\nset -euo pipefail\nexport REGISTRY_AUTH_FILE=${join(work, `auth-${step}.json`)}\n${command}\n`,
    step,
  );
const expectOk = (r: Ran | ReturnType<typeof spawnSync>) => {
  if (r.status !== 0) throw new Error(`exit ${r.status}\n${r.stdout}\n${r.stderr}`);
};

async function ecrPassword(): Promise<string> {
  const out = await ecr.send(new GetAuthorizationTokenCommand({}));
  return Buffer.from(out.authorizationData?.[0]?.authorizationToken ?? '', 'base64')
    .toString('utf8')
    .replace(/^AWS:/, '');
}

/** The digest the registry itself answers for a manifest (what users pull by). */
async function registryDigest(repository: string, reference: string): Promise<string | null> {
  const response = await fetch(
    `http://${host.registry}/v2/ecr/${LOCAL_ACCOUNT}/${LOCAL_REGION}/${repository}/manifests/${reference}`,
    {
      method: 'HEAD',
      headers: {
        Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
      },
    },
  );
  return response.ok ? response.headers.get('docker-content-digest') : null;
}

beforeAll(async () => {
  let started = Date.now();
  moto = await startMoto();
  timings.moto = Date.now() - started;
  started = Date.now();
  host = await startContainerHost({ motoEndpoint: moto.endpoint });
  timings.containerHost = Date.now() - started;
  ecr = new ECRClient(localClientConfig(moto.endpoint, LOCAL_REGION));
  // Outside /tmp, as a builder host's state folder would be.
  work = mkdtempSync(join(sandboxParent(), 'kiln-containers-test-'));
  // The build context as PrepareBuild stages it: the app's folder as a tar.gz behind a URL.
  const app = join(work, 'app');
  mkdirSync(join(app, 'tests'), { recursive: true });
  writeFileSync(join(app, 'requirements.txt'), '# nothing to install: pip cannot reach PyPI here\n');
  writeFileSync(join(app, 'greet.py'), 'def greet(name):\n    return f"hello {name}"\n');
  writeFileSync(join(app, 'tests', '__init__.py'), '');
  writeFileSync(
    join(app, 'tests', 'test_greet.py'),
    'import unittest\nfrom greet import greet\n\nclass T(unittest.TestCase):\n    def test_greet(self):\n        self.assertEqual(greet("kiln"), "hello kiln")\n',
  );
  expectOk(spawnSync('tar', ['-czf', join(work, 'context.tar.gz'), '-C', app, '.'], { encoding: 'utf8' }));
  const tarball = readFileSync(join(work, 'context.tar.gz'));
  contextServer = createServer((_req, res) => res.end(tarball));
  const port = await freePort();
  await new Promise<void>((resolve) => contextServer.listen(port, '127.0.0.1', resolve));
  contextUrl = `http://127.0.0.1:${port}/context.tar.gz`;
}, 120_000);

afterAll(async () => {
  // Everything this file made in podman's storage: containers by build label, images by name.
  if (host) {
    await sh(
      [
        `for id in $(docker ps -aq --filter label=kiln.build-id=${BUILD_ID}); do docker rm -f "$id"; done`,
        REMOVE_OWN_IMAGES,
      ].join('\n'),
      'teardown',
    );
  }
  contextServer?.close();
  await host?.stop();
  await moto?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
  console.log(`containers.test.ts timings (ms): ${JSON.stringify(timings)}`);
});

describe('the docker wrapper on a builder host (podman)', () => {
  it('runs the unchanged python:3.9-slim (the stand-in, through the docker.io mirror)', async () => {
    const r = await sh(
      `docker run --rm --label kiln.build-id=${BUILD_ID} python:3.9-slim python3 -c 'import sys, pip; print("py", sys.version_info[0])'`,
      'runStandin',
    );
    expectOk(r);
    expect(r.stdout.trim()).toBe('py 3');
  });

  it('runs the reference template for real: context, pip, unit tests in the container, commit, push to ECR, bridged', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: REPOSITORY }));
    const loaded = await loadTemplate(join(process.cwd(), 'examples', 'docker-python-app.json'));
    expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const build = planTemplate(loaded.template as NonNullable<typeof loaded.template>).builds[0];
    if (!build) throw new Error('no build');
    // The reference template, with its repository renamed so parallel runs never share a tag.
    const renamed = {
      ...build,
      postProcessors: build.postProcessors.map((chain) =>
        chain.map((pp) => ({ ...pp, config: { ...pp.config, repository: REPOSITORY } })),
      ),
    };
    const scripts = renderDockerHost(renamed, {
      buildId: BUILD_ID,
      buildName: 'docker',
      registry: { account: LOCAL_ACCOUNT, region: LOCAL_REGION },
      stateRoot: join(work, 'state'),
      buildContextUrl: contextUrl,
      ecrPassword: await ecrPassword(),
    });
    expect(shellcheck([scripts.prepare, ...scripts.provisioners, scripts.finish, scripts.cleanup], work)).toBe('');

    expectOk(await onHost(scripts.prepare, 'prepare'));
    const provision = await onHost(scripts.provisioners[0] as string, 'provision');
    expectOk(provision);
    // unittest reports on stderr: the test ran inside the container against the copied build context.
    expect(provision.stderr).toMatch(/Ran 1 test[\s\S]*OK/);
    const finish = await onHost(scripts.finish, 'finish');
    expectOk(finish);
    expect(finish.stdout).toMatch(/kiln:image-id [0-9a-f]{64}/);

    const pushed = host.pushes().filter((p) => p.repository === REPOSITORY);
    expect(pushed.map((p) => p.tag).sort()).toEqual([BUILD_ID, 'latest'].sort());
    const described = await ecr.send(new DescribeImagesCommand({ repositoryName: REPOSITORY }));
    expect(described.imageDetails).toHaveLength(1);
    const detail = described.imageDetails?.[0];
    expect(detail?.imageTags?.slice().sort()).toEqual([BUILD_ID, 'latest'].sort());
    // The digest ECR reports is the one the registry serves, i.e. the one `docker pull repo@digest` uses.
    const served = await registryDigest(REPOSITORY, 'latest');
    expect(served).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(detail?.imageDigest).toBe(served);
    expect(pushed.every((p) => p.digest === served)).toBe(true);
    const got = await ecr.send(
      new BatchGetImageCommand({ repositoryName: REPOSITORY, imageIds: [{ imageTag: 'latest' }] }),
    );
    const manifest = JSON.parse(got.images?.[0]?.imageManifest ?? '{}') as { layers?: unknown[] };
    expect(manifest.layers?.length).toBe(2); // the stand-in's layer and the provisioned one

    expectOk(await onHost(scripts.cleanup, 'cleanup'));
    const left = await sh(`docker ps -aq --filter label=kiln.build-id=${BUILD_ID}`, 'psAfterCleanup');
    expectOk(left);
    expect(left.stdout.trim()).toBe('');

    // The pushed image, pulled back from ECR by the digest ECR reports (local copies removed first), holds the app.
    const ref = `${ECR_HOST}/${REPOSITORY}@${served}`;
    const pulled = await sh(
      [
        `${REMOVE_OWN_IMAGES} >/dev/null`,
        `printf '%s' '${await ecrPassword()}' | docker login --username AWS --password-stdin -- ${ECR_HOST} >/dev/null`,
        `docker pull -- ${ref} >/dev/null`,
        `docker inspect --format '{{.Digest}}' -- ${ref}`,
        // The committed config keeps run_command's --entrypoint=/bin/sh, as docker commit does (Packer's too).
        `docker run --rm --label kiln.build-id=${BUILD_ID} -- ${ref} -c 'python -m unittest discover tests/'`,
      ].join('\n'),
      'pullAndRun',
    );
    expectOk(pulled);
    expect(pulled.stdout.trim()).toBe(served);
    expect(pulled.stderr).toMatch(/Ran 1 test[\s\S]*OK/);
  }, 600_000);

  it('refuses a push to a repository ECR does not have (name unknown), and creates none', async () => {
    const missing = `kiln-test-${RUN}/missing`;
    const r = await sh(
      [
        `printf '%s' '${await ecrPassword()}' | docker login --username AWS --password-stdin -- ${ECR_HOST} >/dev/null`,
        `docker tag python:3.9-slim ${ECR_HOST}/${missing}:v1`,
        `docker push -- ${ECR_HOST}/${missing}:v1`,
      ].join('\n'),
      'pushMissing',
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      `name unknown: The repository with name '${missing}' does not exist in the registry with id '${LOCAL_ACCOUNT}'`,
    );
    await expect(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [missing] }))).rejects.toThrow(
      /does not exist/,
    );
    expect(await registryDigest(missing, 'v1')).toBeNull();
  }, 120_000);

  it('refuses a push without docker login, as ECR does', async () => {
    const repository = `kiln-test-${RUN}/nologin`;
    await ecr.send(new CreateRepositoryCommand({ repositoryName: repository }));
    try {
      const r = await sh(
        [`docker tag python:3.9-slim ${ECR_HOST}/${repository}:v1`, `docker push -- ${ECR_HOST}/${repository}:v1`].join(
          '\n',
        ),
        'pushWithoutLogin',
      );
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/authentication required|unauthorized/i);
      const images = await ecr.send(new DescribeImagesCommand({ repositoryName: repository }));
      expect(images.imageDetails).toEqual([]);
    } finally {
      await ecr.send(new DeleteRepositoryCommand({ repositoryName: repository, force: true }));
    }
  }, 120_000);

  it('the generated wrapper and the setup scripts pass shellcheck', () => {
    const scripts = ['build-python-standin.sh', 'setup.sh', 'ensure-setup.sh'].map((f) => join('scripts', f));
    const r = spawnSync('shellcheck', ['--shell=bash', host.wrapper.docker, ...scripts], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('looks for the stand-in where the build script puts it (same recipe hash, same cache root)', () => {
    const env = { KILN_CACHE_DIR: '/cache-root' };
    const r = spawnSync('sha256sum', [STANDIN_SCRIPT], { encoding: 'utf8' });
    expect(standinDir(env)).toBe(`/cache-root/python-standin-${r.stdout.slice(0, 16)}`);
    expect(standinDir({ HOME: '/home/u' })).toMatch(/^\/home\/u\/\.cache\/kiln\/python-standin-[0-9a-f]{16}$/);
  });
});
