/**
 * The Packer 1.6.6 oracle: Debian's real `packer validate` on every JSON corpus case must give the exit
 * code the manifest recorded (`packer_1_6_6.rc`). If packer is missing the test fails with an install hint:
 * a silent skip would hide that the oracle never ran. It also checks how often Kiln agrees with 1.6.6.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadManifest, prepareCase, validateArgs } from '../../bench/lib/corpus-cases.ts';
import { PACKER_VERSION, packerBinary, packerVersion, runPackerValidate } from './corpus-packer.ts';
import { KILN_VS_PACKER_1_6_6 } from './expectations.ts';

const jsonCases = loadManifest().filter((c) => c.format === 'json');
const scratch = mkdtempSync(join(tmpdir(), 'kiln-packer-oracle-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe(`packer ${PACKER_VERSION} oracle`, () => {
  it('is installed in the expected version', () => {
    expect(packerVersion(packerBinary())).toBe(PACKER_VERSION);
  });

  it.each(jsonCases.map((c) => [c.id, c] as const))('%s: packer validate exits as recorded', (_id, c) => {
    const prepared = prepareCase(c, scratch);
    const result = runPackerValidate(packerBinary(), c, prepared.cwd);
    expect(result.rc, result.output).toBe(c.packer_1_6_6.rc);
  });

  it('Kiln and packer 1.6.6 give the same exit code except on the listed cases', async () => {
    // Imported here so the oracle half above runs even while Kiln's loader is being changed.
    const { kilnValidate } = await import('./corpus-kiln.ts');
    const differing: string[] = [];
    for (const c of jsonCases) {
      const prepared = prepareCase(c, scratch);
      const { outcome } = await kilnValidate(validateArgs(c), prepared.cwd);
      if (outcome.exitCode !== c.packer_1_6_6.rc) differing.push(c.id);
    }
    expect(differing.sort()).toEqual(Object.keys(KILN_VS_PACKER_1_6_6).sort());
  });
});
