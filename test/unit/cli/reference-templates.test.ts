import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REFERENCE_TEMPLATES, REPO_ROOT, referenceTemplatePath } from '../../../cli/reference-templates.ts';

describe('reference templates', () => {
  it('are in examples/ byte for byte as in the shared folder', () => {
    for (const name of REFERENCE_TEMPLATES) {
      const path = referenceTemplatePath(name);
      expect(path).toBe(join(REPO_ROOT, 'examples', name));
      expect(readFileSync(path as string, 'utf8')).toBe(
        readFileSync(join(REPO_ROOT, '../shared/examples', name), 'utf8'),
      );
    }
  });

  it('fall back to ../shared/examples when the repository has no copy', () => {
    const base = mkdtempSync(join(tmpdir(), 'kiln-ref-'));
    try {
      const root = join(base, 'repo');
      mkdirSync(join(base, 'shared', 'examples'), { recursive: true });
      mkdirSync(root);
      writeFileSync(join(base, 'shared', 'examples', 'x.json'), '{}');
      expect(referenceTemplatePath('x.json', root)).toBe(join(root, '..', 'shared', 'examples', 'x.json'));
      expect(referenceTemplatePath('missing.json', root)).toBeUndefined();
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
