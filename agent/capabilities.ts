/**
 * What this machine can run, found at start and before every acquire (a hypervisor may be installed or removed
 * while the agent runs): packer's version, the hypervisor CLIs on the lookup path, os and arch. The lookup path
 * is PATH, or KILN_AGENT_PATH when set (tests and hosts that keep packer outside the service's PATH); packer
 * and the hypervisor CLIs are found on it, and packer runs with it as its PATH.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import type * as z from 'zod/mini';
import type { capabilitiesSchema } from '../aws/agent-gateway-contract.ts';
import { HYPERVISORS, type Hypervisor, requiredHypervisor } from '../core/agents/matching.ts';
import { PackerMissingError } from './errors.ts';

export type Capabilities = z.infer<typeof capabilitiesSchema>;

export const LOOKUP_PATH_ENV = 'KILN_AGENT_PATH';

/**
 * Builder types advertised. Packer 1.6 has them built in; later versions load them as plugins, which the agent
 * cannot list without running a template. The gateway's matching also requires the hypervisor CLI for the
 * vmware and virtualbox ones, so advertising them without it offers no such job.
 */
export const PACKER_BUILDERS = [
  'null',
  'file',
  'vmware-iso',
  'vmware-vmx',
  'virtualbox-iso',
  'virtualbox-ovf',
  'virtualbox-vm',
  'qemu',
] as const;

export const lookupPath = (env: NodeJS.ProcessEnv = process.env): string => env[LOOKUP_PATH_ENV] ?? env.PATH ?? '';

/** The executable `command` on `path`, like `which`, or undefined. */
export function which(command: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** "Packer v1.6.6", "Packer v1.11.2\n\nYour version of Packer is out of date!...", or `packer --version`'s "1.6.6". */
export function parsePackerVersion(output: string): string | undefined {
  const match = /(?:^|\s)v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)/.exec(output.trim());
  return match?.[1];
}

export const hypervisorsOn = (path: string): Hypervisor[] => HYPERVISORS.filter((cli) => which(cli, path));

/** Why this agent refuses a builder type before running packer, or undefined. */
export function hypervisorGap(builderType: string, path: string): string | undefined {
  const needed = requiredHypervisor(builderType);
  if (!needed || which(needed.cli, path)) return undefined;
  return `${needed.product} not available on this agent: ${needed.cli} was not found on this agent's PATH: install it, or run builds needing it on another agent`;
}

export interface PackerInstall {
  readonly path: string;
  readonly version: string;
}

export async function findPacker(path: string): Promise<PackerInstall> {
  const packer = which('packer', path);
  if (!packer) {
    throw new PackerMissingError(
      `packer was not found on PATH (${path || 'empty'}): install packer (1.6 or later) or set ${LOOKUP_PATH_ENV}`,
    );
  }
  const { stdout } = await promisify(execFile)(packer, ['version'], {
    env: { PATH: path, CHECKPOINT_DISABLE: '1' },
    timeout: 30_000,
  });
  const version = parsePackerVersion(stdout);
  if (!version) throw new PackerMissingError(`${packer} version printed no version: ${stdout.slice(0, 200)}`);
  return { path: packer, version };
}

const NODE_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' };

export function capabilitiesOf(packer: PackerInstall, path: string): Capabilities {
  return {
    builders: [...PACKER_BUILDERS],
    hypervisors: hypervisorsOn(path),
    packerVersion: packer.version,
    // Packer's own names (GOOS/GOARCH), which is what template authors know.
    os: process.platform === 'win32' ? 'windows' : process.platform,
    arch: NODE_ARCH[process.arch] ?? process.arch,
  };
}
