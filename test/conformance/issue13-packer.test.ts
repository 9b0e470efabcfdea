/**
 * Issue 13's own fixtures (test/fixtures/hcl/issue13) against the Packer 1.6.6 oracle: every fixture whose header
 * says it was "checked with Debian packer 1.6.6" must get that verdict from the real `packer validate` (valid/ →
 * exit 0, invalid/ → exit 1), and Kiln must agree. Fixtures for Packer 1.7+ grammar (dynamic build blocks) are
 * reasoned from Packer's source instead and checked by test/unit/template/hcl/issue13-fixtures.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTemplate } from '../../core/validation/load.ts';
import { PACKER_VERSION, packerBinary, packerEnv } from './corpus-packer.ts';

const ROOT = resolve(import.meta.dirname, '../fixtures/hcl/issue13');

/** The header comment as one line (`# ` prefixes and line breaks removed). */
function header(path: string): string {
  const lines = readFileSync(path, 'utf8').split('\n');
  const comment = lines.slice(
    0,
    lines.findIndex((l) => !l.startsWith('#')),
  );
  return comment.map((l) => l.replace(/^#\s?/, '')).join(' ');
}

const checked = ['valid', 'invalid'].flatMap((verdict) =>
  readdirSync(join(ROOT, verdict))
    .filter((f) => f.endsWith('.pkr.hcl'))
    .filter((f) => /checked with Debian packer 1\.6\.6/.test(header(join(ROOT, verdict, f))))
    .map((f) => [`${verdict}/${f}`, verdict === 'valid' ? 0 : 1] as const),
);

describe(`issue 13 fixtures against packer ${PACKER_VERSION}`, () => {
  it('has fixtures checked with the oracle', () => {
    expect(checked.length).toBeGreaterThanOrEqual(7);
  });

  it.each(checked)('%s: packer validate exits %i, and Kiln agrees', async (rel, rc) => {
    const dir = join(ROOT, rel.split('/')[0] as string);
    const file = rel.split('/')[1] as string;
    const run = spawnSync(packerBinary(), ['validate', file], {
      cwd: dir,
      env: packerEnv(),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, `${run.stdout}${run.stderr}`).toBe(rc);
    const kiln = await loadTemplate(file, { cwd: dir });
    expect(kiln.diagnostics.some((d) => d.severity === 'error') ? 1 : 0).toBe(rc);
  });
});

/**
 * Multi-file templates: a folder of .pkr.hcl files is one template (what PrepareBuild builds for a folder upload,
 * functions/common/prepare-build/fetch-template.ts); one of its files alone is not.
 */
describe(`a folder of .pkr.hcl files against packer ${PACKER_VERSION}`, () => {
  const dir = join(ROOT, 'folder');
  it.each([
    ['.', 0],
    ['build.pkr.hcl', 1],
  ] as const)('packer validate %s exits %i, and Kiln agrees', async (target, rc) => {
    const run = spawnSync(packerBinary(), ['validate', target], {
      cwd: dir,
      env: packerEnv(),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, `${run.stdout}${run.stderr}`).toBe(rc);
    const kiln = await loadTemplate(target === '.' ? dir : target, { cwd: dir });
    expect(kiln.diagnostics.some((d) => d.severity === 'error') ? 1 : 0).toBe(rc);
  });
});
