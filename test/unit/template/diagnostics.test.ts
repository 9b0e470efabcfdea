import { describe, expect, it } from 'vitest';
import {
  diagnosticOneLine,
  error,
  formatDiagnostic,
  hasErrors,
  positionAt,
  warning,
} from '../../../core/template/diagnostics.ts';

const range = { file: 'build.pkr.hcl', start: { line: 2, column: 14 }, end: { line: 2, column: 19 } };

describe('diagnostics', () => {
  it('prints Packer-style with the source line and a caret under the column', () => {
    const sources = new Map([['build.pkr.hcl', 'source "null" "x" {\n  ami_name = var.x\n}\n']]);
    const text = formatDiagnostic(
      error(
        'Reference to undeclared input variable',
        'An input variable with the name "x" has not been declared.',
        range,
      ),
      { sources },
    );
    expect(text.split('\n')).toEqual([
      'Error: Reference to undeclared input variable',
      '',
      '  on build.pkr.hcl line 2, column 14:',
      '  2:   ami_name = var.x',
      '                  ^',
      '',
      'An input variable with the name "x" has not been declared.',
      '',
    ]);
  });

  it('colours only when asked', () => {
    expect(formatDiagnostic(warning('w'), { color: true })).toContain('\u001b[');
    expect(formatDiagnostic(warning('w'))).not.toContain('\u001b[');
  });

  it('prints without a source excerpt when the file text is unknown', () => {
    expect(formatDiagnostic(error('Bad', undefined, range))).toBe(
      'Error: Bad\n\n  on build.pkr.hcl line 2, column 14:\n',
    );
  });

  it('computes 1-based positions from offsets', () => {
    expect(positionAt('ab\ncd', 0)).toEqual({ line: 1, column: 1 });
    expect(positionAt('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
    expect(positionAt('ab', 99)).toEqual({ line: 1, column: 3 });
  });

  it('tells errors from warnings and prints one-liners', () => {
    expect(hasErrors([warning('w')])).toBe(false);
    expect(hasErrors([warning('w'), error('e')])).toBe(true);
    expect(diagnosticOneLine(error('Bad thing', 'fix it', range))).toBe('build.pkr.hcl:2:14: Bad thing: fix it');
  });
});
