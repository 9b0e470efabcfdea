import { describe, expect, it } from 'vitest';
import { cell, displayValue, redactText } from '../../../cli/display.ts';
import { colorEnabled } from '../../../cli/io.ts';
import { renderTable } from '../../../cli/table.ts';
import { UnknownValue } from '../../../core/template/model.ts';

describe('display helpers', () => {
  it('redacts every occurrence of a sensitive value, longest first', () => {
    expect(redactText('user=admin pass=admin123', ['admin', 'admin123'])).toBe('user=<sensitive> pass=<sensitive>');
    expect(redactText('nothing to hide', [''])).toBe('nothing to hide');
  });

  it('shows unknown values by what they stand for', () => {
    expect(displayValue(new UnknownValue('data.amazon-ami.ubuntu.id'))).toBe('<unknown: data.amazon-ami.ubuntu.id>');
    expect(displayValue({ a: [1] })).toBe('{"a":[1]}');
  });

  it('uses a dash for empty cells and joins lists', () => {
    expect(cell(undefined)).toBe('-');
    expect(cell([])).toBe('-');
    expect(cell(['us-east-1', 'eu-west-1'])).toBe('us-east-1, eu-west-1');
  });

  it('aligns table columns to the widest cell', () => {
    const text = renderTable(
      ['A', 'LONG'],
      [
        ['xxxx', '1'],
        ['y', '22'],
      ],
    );
    expect(text.split('\n')).toEqual(['A     LONG', '----  ----', 'xxxx  1', 'y     22', '']);
  });
});

describe('colorEnabled', () => {
  it.each([
    [true, {}, true],
    [false, {}, false],
    [undefined, {}, false],
    [true, { NO_COLOR: '1' }, false],
    [true, { NO_COLOR: '' }, true],
  ] as const)('tty=%s env=%j → %s', (tty, env, expected) => {
    expect(colorEnabled(tty, env)).toBe(expected);
  });
});
