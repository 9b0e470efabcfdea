/** Hostile input ends as diagnostics in bounded time: deep nesting, huge files, cyclic locals, regexes, fuzz. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadHclTemplate } from '../../../../core/frontends/hcl/index.ts';
import { hasErrors } from '../../../../core/template/diagnostics.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-hcl-robust-'));
let n = 0;
async function loadText(text: string, ext = 'pkr.hcl') {
  const file = join(dir, `t${n++}.${ext}`);
  writeFileSync(file, text);
  return loadHclTemplate(file, { cwd: dir });
}

describe('robustness', () => {
  it('rejects deeply nested expressions with a diagnostic', async () => {
    const r = await loadText(`x = ${'['.repeat(3000)}${']'.repeat(3000)}\n`);
    expect(hasErrors(r.diagnostics)).toBe(true);
    expect(r.diagnostics.map((d) => [d.summary, d.range?.start.line, d.range?.start.column])).toEqual([
      ['Template limit maxNestingDepth exceeded', 1, 205],
    ]);
    // The strict parser must still work afterwards (deep input used to crash its runtime for the process).
    const ok = await loadText('locals {\n  a = [[[1]]]\n}\n');
    expect(ok.diagnostics).toEqual([]);
  });

  it('rejects deeply nested JSON syntax with a diagnostic', async () => {
    const r = await loadText(`{"locals": {"x": ${'['.repeat(3000)}${']'.repeat(3000)}}}`, 'pkr.json');
    expect(r.diagnostics[0]?.summary).toBe('Template limit maxNestingDepth exceeded');
    expect(r.diagnostics[0]?.detail).toContain('nests deeper than 200 arrays and objects');
  });

  it('refuses a 10 MB file before parsing it', async () => {
    const line = `  k = "${'v'.repeat(90)}"\n`;
    const r = await loadText(`source "null" "a" {\n${line.repeat(110_000)}}\n`);
    expect(r.diagnostics.map((d) => d.summary)).toEqual(['Template limit maxFileBytes exceeded']);
  });

  it('reports cyclic locals once, naming the cycle', async () => {
    const r = await loadText('locals {\n  a = local.a\n}\n');
    const cycles = r.diagnostics.filter((d) => d.summary === 'Cycle in local variables');
    expect(cycles).toHaveLength(1);
    expect(cycles[0]?.detail).toContain('local.a -> local.a');
  });

  it('rejects a catastrophic regex instead of hanging', async () => {
    const r = await loadText(`locals {\n  m = regex("^(a+)+$", "${'a'.repeat(40)}b")\n}\n`);
    expect(r.diagnostics[0]?.summary).toBe('Error in function call');
    expect(r.diagnostics[0]?.detail).toContain('nested quantifiers');
  });

  it('never throws on arbitrary input', async () => {
    const fragments = [
      'source',
      'build',
      '"null"',
      '"a"',
      '{',
      '}',
      '=',
      '[',
      ']',
      '${',
      'var.x',
      'local.y',
      '\n',
      '"',
      '(',
      ')',
      '%{ if',
      '~}',
      '<<EOF\n',
      'EOF\n',
      '1',
      ',',
      '.',
      '*',
      '...',
      'for',
      'in',
      ':',
      '?',
    ];
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...fragments), { maxLength: 40 }), async (parts) => {
        const r = await loadText(parts.join(' '));
        expect(Array.isArray(r.diagnostics)).toBe(true);
        for (const d of r.diagnostics) expect(typeof d.summary).toBe('string');
      }),
      { numRuns: 60 },
    );
  });
});
