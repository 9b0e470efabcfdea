import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { referenceTemplatePath } from '../../../cli/reference-templates.ts';

describe('reference templates', () => {
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
