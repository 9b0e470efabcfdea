/**
 * The second oracle run on a corpus case: Debian's real `packer` 1.6.6 (found by bench/lib/packer.ts), exactly as
 * the corpus README describes. Used by the Packer test and the conformance report.
 */
import { spawnSync } from 'node:child_process';
import { type CorpusCase, validateArgs } from '../../bench/lib/corpus-cases.ts';
import { packerEnv } from '../../bench/lib/packer.ts';

export { PACKER_VERSION, packerBinary, packerEnv, packerVersion } from '../../bench/lib/packer.ts';

export interface PackerResult {
  readonly rc: number;
  readonly output: string;
}

export function runPackerValidate(binary: string, c: CorpusCase, cwd: string): PackerResult {
  const run = spawnSync(binary, ['validate', ...validateArgs(c)], {
    cwd,
    env: packerEnv(),
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { rc: run.status ?? -1, output: `${run.stdout ?? ''}${run.stderr ?? ''}` };
}
