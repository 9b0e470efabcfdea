/**
 * Checks that need the shared folder beside the repository (../shared): the reference templates in examples/
 * are byte-for-byte copies of ../shared/examples, and Packer's own `complete` HCL testdata from the corpus keeps
 * `build.*` references unknown until run time.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS_DIR, SHARED_DIR } from '../../bench/lib/corpus-cases.ts';
import { REFERENCE_TEMPLATES, REPO_ROOT, referenceTemplatePath } from '../../cli/reference-templates.ts';
import { loadHclTemplate } from '../../core/frontends/hcl/index.ts';
import { UnknownValue } from '../../core/template/model.ts';

describe('copies of the shared folder', () => {
  it.each(REFERENCE_TEMPLATES.map((n) => [n]))('examples/%s is byte for byte ../shared/examples', (name) => {
    const path = referenceTemplatePath(name);
    expect(path).toBe(join(REPO_ROOT, 'examples', name));
    expect(readFileSync(path as string, 'utf8')).toBe(readFileSync(join(SHARED_DIR, 'examples', name), 'utf8'));
  });

  it("leaves build.* unknown until run time in Packer's complete testdata", async () => {
    const complete = await loadHclTemplate('.', {
      cwd: resolve(CORPUS_DIR, 'hashicorp__packer/hcl2template/testdata/complete'),
    });
    const shell = complete.template?.builds[0]?.provisioners[0];
    expect(shell?.config.not_squashed).toBeInstanceOf(UnknownValue);
  });
});
