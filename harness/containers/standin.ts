/**
 * The local stand-in for `python:3.9-slim` (Docker Hub is unreachable here): built once per machine by
 * scripts/build-python-standin.sh (setup.sh runs it) into a folder keyed by the hash of that script, the recipe.
 * Its `registry/` folder is docker-registry storage holding `library/python:3.9-slim`; every local registry the
 * harness starts is seeded from it (registry.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const STANDIN_SCRIPT = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'scripts',
  'build-python-standin.sh',
);

/** The image name the stand-in answers to through the `docker.io` mirror (registry path `library/python`). */
export const STANDIN_REPOSITORY = 'library/python';
export const STANDIN_TAG = '3.9-slim';

export class StandinMissingError extends Error {
  override readonly name = 'StandinMissingError';
}

/** Same rule as the script: `${KILN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kiln}/python-standin-<16 hex>`. */
export function standinDir(env: NodeJS.ProcessEnv = process.env): string {
  const recipe = createHash('sha256').update(readFileSync(STANDIN_SCRIPT)).digest('hex').slice(0, 16);
  const root = env.KILN_CACHE_DIR || join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'kiln');
  return join(root, `python-standin-${recipe}`);
}

/** The registry storage seed; throws, saying how to build it, when this machine has none for the current recipe. */
export function standinRegistrySeed(env: NodeJS.ProcessEnv = process.env): string {
  const dir = standinDir(env);
  const seed = join(dir, 'registry');
  if (!existsSync(join(seed, '.complete'))) {
    throw new StandinMissingError(
      `The python:3.9-slim stand-in is not built on this machine for the current recipe (${dir} is missing): ` +
        'run `bash scripts/build-python-standin.sh` as root (about 1-3 minutes, once; scripts/setup.sh runs it)',
    );
  }
  return seed;
}
