/**
 * Containers for the local docker builder hosts, for real: podman behind a `docker` wrapper, a docker-registry
 * seeded with the python:3.9-slim stand-in (the `docker.io` mirror), and the ECR front bridging pushes into
 * moto's ECR. `startLocalAws({ containers: true })` starts one and gives the wrapper to the instances launched
 * from the docker host AMI (see dockerHostImage in local-aws.ts); tests may start one alone.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_ACCOUNT } from '../clients.ts';
import { sandboxParent } from '../command-runner.ts';
import { type BridgedPush, type EcrFront, ecrNamespace, startEcrFront } from './ecr-front.ts';
import { type LocalRegistry, startRegistry } from './registry.ts';
import { standinRegistrySeed } from './standin.ts';
import { type WrapperFiles, writeWrapper } from './wrapper.ts';

export { type BridgedPush, ecrNamespace };

export interface ContainerHostOptions {
  readonly motoEndpoint: string;
  /** Parent folder (default: where instance sandboxes go; never under /tmp, which each instance has privately). */
  readonly parentDir?: string;
}

export interface ContainerHost {
  /** Put first on PATH to have `docker` (the wrapper). */
  readonly binDir: string;
  readonly wrapper: WrapperFiles;
  /** The docker-registry (`127.0.0.1:<port>`, plain HTTP, no auth): the `docker.io` mirror, the images' storage. */
  readonly registry: string;
  /** The ECR front (`127.0.0.1:<port>`): every ECR host's data plane. */
  readonly ecrFront: string;
  /**
   * The registries this host serves locally, as the functions' mirror map (`KILN_REGISTRY_MIRRORS`): `docker.io` →
   * the local registry, so PrepareBuild reads the stand-in's digest where the builder hosts pull it from.
   */
  readonly mirrors: Readonly<Record<string, string>>;
  /** Images pushed to ECR hosts and bridged into moto's ECR, oldest first. */
  pushes(): readonly BridgedPush[];
  /** Environment to run the wrapper outside the SSM stand-in (tests): PATH with the wrapper first. */
  readonly env: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

/** Tools the container host needs; their absence names the setup step. */
export function missingContainerTools(): string[] {
  return ['podman', 'runc', 'docker-registry'].filter(
    (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0,
  );
}

export async function startContainerHost(options: ContainerHostOptions): Promise<ContainerHost> {
  const missing = missingContainerTools();
  if (missing.length > 0) {
    throw new Error(`containers: ${missing.join(', ')} not installed (bash scripts/setup.sh installs them from apt)`);
  }
  const seed = standinRegistrySeed();
  const dir = mkdtempSync(join(options.parentDir ?? sandboxParent(), 'kiln-containers-'));
  let registry: LocalRegistry | undefined;
  let front: EcrFront | undefined;
  try {
    registry = await startRegistry({ dir: join(dir, 'registry'), seed });
    front = await startEcrFront({ registry: registry.address, motoEndpoint: options.motoEndpoint });
    const wrapper = writeWrapper({
      dir: join(dir, 'wrapper'),
      registry: registry.address,
      ecrFront: front.address,
      account: LOCAL_ACCOUNT,
    });
    const started = { registry, front };
    let stopped: Promise<void> | undefined;
    return {
      binDir: wrapper.binDir,
      wrapper,
      registry: registry.address,
      ecrFront: front.address,
      mirrors: { 'docker.io': `http://${registry.address}` },
      pushes: () => started.front.pushes(),
      env: { PATH: `${wrapper.binDir}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` },
      stop: () => {
        stopped ??= (async () => {
          await started.front.stop();
          await started.registry.stop();
          rmSync(dir, { recursive: true, force: true });
        })();
        return stopped;
      },
    };
  } catch (error) {
    await front?.stop();
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
