/**
 * Conformance: every case of the shared corpus (../shared/corpus/manifest.json) through `kiln validate`'s
 * code path. Each case must agree with the corpus unless it is listed in KNOWN_DISAGREEMENTS, and every
 * listed case must still disagree (so a fix forces the list to shrink). `npm run conformance:report`
 * writes the same evaluation as a table to test/conformance/REPORT.md.
 */
import { createPrivateKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadManifest, prepareCase, validateArgs } from '../../bench/lib/corpus-cases.ts';
import { describeDisagreement, evaluateCase } from './corpus-kiln.ts';
import { KNOWN_DISAGREEMENTS, PROBLEMS } from './expectations.ts';

const cases = loadManifest();
const scratch = mkdtempSync(join(tmpdir(), 'kiln-conformance-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('conformance corpus', () => {
  it('has the recorded command line for every case (the same argv Kiln is given)', () => {
    for (const c of cases) {
      if (c.packer_1_6_6.command)
        expect(['packer', 'validate', ...validateArgs(c)].join(' ')).toBe(c.packer_1_6_6.command);
    }
  });

  it('has a problem expectation for every invalid and unsupported-plugin case, and no stray entries', () => {
    const needing = cases.filter((c) => c.expect === 'invalid' || c.expect === 'unsupported-plugin').map((c) => c.id);
    expect(Object.keys(PROBLEMS).sort()).toEqual(needing.sort());
  });

  it('creates every stub, SSH private keys as real keys, relative to the case directory', () => {
    for (const c of cases.filter((x) => x.stub_files)) {
      const { cwd } = prepareCase(c, scratch);
      for (const stub of c.stub_files ?? []) {
        const path = join(cwd, typeof stub === 'string' ? stub : stub.path);
        expect(existsSync(path), path).toBe(true);
        if (typeof stub !== 'string') {
          expect(createPrivateKey(readFileSync(path)).asymmetricKeyType).toBe('rsa');
        }
      }
    }
  });

  it('lists only real cases as known disagreements, each with a reason', () => {
    const ids = new Set(cases.map((c) => c.id));
    for (const [id, reason] of Object.entries(KNOWN_DISAGREEMENTS)) {
      expect(ids.has(id), `${id} is not a corpus case`).toBe(true);
      expect(reason.length).toBeGreaterThan(10);
    }
  });

  it.each(cases.map((c) => [c.id, c] as const))('%s', async (id, c) => {
    const evaluation = await evaluateCase(c, scratch);
    const known = KNOWN_DISAGREEMENTS[id];
    if (known === undefined) {
      expect(evaluation.agrees, `Kiln disagrees with the corpus: ${describeDisagreement(evaluation)}`).toBe(true);
    } else {
      expect(
        evaluation.agrees,
        `${id} now agrees with the corpus: remove it from KNOWN_DISAGREEMENTS (was: ${known})`,
      ).toBe(false);
    }
  });
});
