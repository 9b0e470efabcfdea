// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are HCL source, where ${} is HCL interpolation.
import { describe, expect, it } from 'vitest';
import { UnknownValue } from '../../../../core/template/model.ts';
import { evalError, evalExpr } from './eval-helper.ts';

describe('HCL expressions', () => {
  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['-1 + 2', 1],
    ['10 % 4', 2],
    ['7 / 2', 3.5],
    ['"5" + 1', 6],
    ['1 == 1 && !false', true],
    ['1 == "1"', false],
    ['[1, 2] == [1, 2]', true],
    ['3 >= 2 ? "yes" : "no"', 'yes'],
    ['null', null],
    ['1.5e3', 1500],
    ['"a${1 + 1}b"', 'a2b'],
    ['"${true}"', true],
    ['"x\\n\\"q\\" \\u00e9"', 'x\n"q" é'],
    ['"$${literal} %%{also}"', '${literal} %{also}'],
    ['"legacy {{timestamp}} kept"', 'legacy {{timestamp}} kept'],
    ['"%{ if true }yes%{ else }no%{ endif }"', 'yes'],
    ['"%{ if false }yes%{ else }no%{ endif }"', 'no'],
    ['"%{ for x in [1, 2, 3] }${x},%{ endfor }"', '1,2,3,'],
    ['"a %{~ if true ~} b %{~ endif ~} c"', 'abc'],
    ['"a ${~ "x" ~} c"', 'axc'],
    ['[for s in ["a", "b"] : upper(s)]', ['A', 'B']],
    ['[for i, s in ["a", "b"] : "${i}${s}" if s != "a"]', ['1b']],
    ['{for k, v in {a = 1, b = 2} : v => k}', { '1': 'a', '2': 'b' }],
    ['{for s in ["a", "b", "a"] : s => s...}', { a: ['a', 'a'], b: ['b'] }],
    ['[{a = 1}, {a = 2}][*].a', [1, 2]],
    ['[{a = {b = 1}}, {a = {b = 2}}].*.a.b', [1, 2]],
    ['{a = [10, 20]}.a[1]', 20],
    ['{"a b" = 1}["a b"]', 1],
    ['[1, 2, 3].1', 2],
    ['{a = 1, "b" : 2, (upper("c")) = 3}', { a: 1, b: 2, C: 3 }],
    ['max([1, 5, 3]...)', 5],
  ])('%s', async (src, expected) => {
    expect(await evalExpr(src)).toEqual(expected);
  });

  it('evaluates heredocs, flushing <<- indentation', async () => {
    expect(await evalExpr('<<EOF\n  a ${1}\n  b\nEOF\n')).toBe('  a 1\n  b\n');
    expect(await evalExpr('<<-EOT\n    a\n      b ${"c"}\n    EOT\n')).toBe('a\n  b c\n');
  });

  it('keeps unknown values unknown through operators, templates and calls', async () => {
    const vars = { build: { ID: new UnknownValue('build.ID') } };
    expect(await evalExpr('"id-${build.ID}"', vars)).toBeInstanceOf(UnknownValue);
    expect(await evalExpr('upper(build.ID)', vars)).toBeInstanceOf(UnknownValue);
    expect(await evalExpr('build.ID == "x"', vars)).toBeInstanceOf(UnknownValue);
    expect(await evalExpr('length([build.ID, 1])', vars)).toBe(2);
  });

  it('reports an unknown function with its position and a suggestion', async () => {
    const e = await evalError('uper("x")');
    expect(e).toMatchObject({ summary: 'Call to unknown function', line: 1, column: 5 });
    expect(e?.detail).toContain('Did you mean "upper"?');
  });

  it.each([
    ['missing.attr', 'Unknown variable'],
    ['{a = 1}.b', 'Unsupported attribute'],
    ['[1][5]', 'Invalid index'],
    ['1 / 0', 'Operation failed'],
    ['"a" + 1', 'Invalid value'],
    ['{for s in ["a", "a"] : s => s}', 'Duplicate object key'],
    ['"a${[1]}"', 'Invalid template interpolation value'],
    ['regex("(a+)+$", "aaaa")', 'Error in function call'],
  ])('%s fails with %s', async (src, summary) => {
    expect((await evalError(src))?.summary).toBe(summary);
  });

  it('try and can catch evaluation errors', async () => {
    expect(await evalExpr('try({a = 1}.b, "fallback")')).toBe('fallback');
    expect(await evalExpr('can({a = 1}.b)')).toBe(false);
    expect(await evalExpr('can({a = 1}.a)')).toBe(true);
  });

  it('convert applies a type constraint', async () => {
    expect(await evalExpr('convert(["1", 2], list(number))')).toEqual([1, 2]);
    expect(await evalExpr('convert({a = 1}, object({a = string, b = optional(number, 7)}))')).toEqual({ a: '1', b: 7 });
    expect((await evalError('convert("x", number)'))?.summary).toBe('Invalid function argument');
  });
});
