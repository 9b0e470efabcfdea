/**
 * Where the second oracle lives: Debian's real `packer` 1.6.6 (the corpus README says how it is run). Used by the
 * Packer conformance test, the conformance report and the benchmark.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PACKER_VERSION = '1.6.6';

/** `PACKER_BIN` overrides; otherwise Debian's package location, then PATH. */
export function packerBinary(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PACKER_BIN) return env.PACKER_BIN;
  if (existsSync('/usr/bin/packer')) return '/usr/bin/packer';
  const found = spawnSync('sh', ['-c', 'command -v packer'], { encoding: 'utf8' });
  if (found.status === 0 && found.stdout.trim()) return found.stdout.trim();
  throw new Error(
    'packer 1.6.6 not found (looked at $PACKER_BIN, /usr/bin/packer and PATH). Install it with ' +
      '`apt-get install packer` (Debian 12 ships 1.6.6), or set PACKER_BIN to a packer 1.6.6 binary.',
  );
}

export function packerVersion(binary: string): string {
  const out = spawnSync(binary, ['version'], { encoding: 'utf8', env: packerEnv() });
  return /v?(\d+\.\d+\.\d+)/.exec(out.stdout ?? '')?.[1] ?? 'unknown';
}

/**
 * A clean environment: no AWS credentials or region (cases that need them must fail as recorded), no
 * PKR_VAR_* leaking in from the caller, no update check.
 */
export function packerEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', CHECKPOINT_DISABLE: '1' };
}
