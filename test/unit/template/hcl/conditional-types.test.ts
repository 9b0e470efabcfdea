/**
 * HCL's conditional unifies its two result types (go-cty `convert.UnifyUnsafe`) and converts the chosen result to
 * it; results with no common type are an error. Every verdict and value below was checked with Debian packer
 * 1.6.6's `packer console` (messages are hclsyntax's `describeConditionalTypeMismatch`, Packer 1.7+).
 */
import { describe, expect, it } from 'vitest';
import { UnknownValue } from '../../../../core/template/model.ts';
import { evalError, evalExpr } from './eval-helper.ts';

describe('conditional result types', () => {
  it.each([
    ['true ? 1 : "a"', '1'],
    ['false ? "a" : 2.5', '2.5'],
    ['true ? true : "a"', 'true'],
    ['false ? [] : ["a"]', ['a']],
    ['true ? [1] : ["a", "b"]', ['1']],
    ['true ? [1, true] : ["a", "b"]', ['1', 'true']],
    ['true ? { a = 1 } : { a = "x" }', { a: '1' }],
    ['true ? { a = 1 } : { b = "x" }', { a: '1' }],
    ['true ? { a = [1] } : { a = ["x", "y"] }', { a: ['1'] }],
    ['true ? 1 : 2', 1],
    ['true ? null : 1', null],
    ['false ? null : 1', 1],
    ['true ? [null] : ["a"]', [null]],
    ['"1" ? 1 : 2', 1],
    ['"false" ? 1 : 2', 2],
  ])('%s is %j', async (src, expected) => {
    expect(await evalExpr(src)).toEqual(expected);
  });

  it('unifies through functions and templates', async () => {
    expect(await evalExpr('jsonencode(true ? 1 : "a")')).toBe('"1"');
    expect(await evalExpr('length(true ? 1234 : "a")')).toBe(4);
  });

  it.each([
    ['true ? 1 : true', "The 'true' value is number, but the 'false' value is bool"],
    ['false ? 1 : true', "The 'true' value is number, but the 'false' value is bool"],
    ['true ? "a" : [1]', "The 'true' value is string, but the 'false' value is tuple"],
    ['true ? [1] : { a = 1 }', "The 'true' value is tuple, but the 'false' value is object"],
    ['true ? [1, [2]] : []', "The 'true' tuple has length 2, but the 'false' tuple has length 0"],
    [
      'true ? [1, "a"] : [[1], "a"]',
      "Type mismatch for tuple element 0: The 'true' value is number, but the 'false' value is tuple",
    ],
    [
      'true ? { a = 1 } : { a = [1] }',
      "Type mismatch for object attribute \"a\": The 'true' value is number, but the 'false' value is tuple",
    ],
    [
      'true ? { a = [1] } : { b = "x" }',
      "The 'true' value includes object attribute \"a\", which is absent in the 'false' value",
    ],
    [
      'true ? { a = "x" } : { a = "y", b = [1] }',
      "The 'false' value includes object attribute \"b\", which is absent in the 'true' value",
    ],
  ])('%s is an error: %s', async (src, why) => {
    const e = await evalError(src);
    expect(e?.summary).toBe('Inconsistent conditional result types');
    expect(e?.detail).toBe(`The true and false result expressions must have consistent types. ${why}.`);
  });

  it('checks the types even when the condition is unknown, and stays unknown', async () => {
    const unknown = new UnknownValue('data.x');
    expect(await evalExpr('c ? 1 : "a"', { c: unknown })).toBeInstanceOf(UnknownValue);
    expect((await evalError('c ? 1 : true', { c: unknown }))?.summary).toBe('Inconsistent conditional result types');
  });

  it("drops the unchosen result's errors (it only has no type), and keeps the chosen one's", async () => {
    expect(await evalExpr('length(l) > 0 ? l[0] : "none"', { l: [] })).toBe('none');
    expect(await evalExpr('true ? "a" : upper(null)')).toBe('a');
    expect((await evalError('true ? upper(null) : "a"'))?.summary).not.toBe('Inconsistent conditional result types');
  });

  it('converts "1"/"0" to bool like cty 1.13, in logical operators too (packer 1.6.6: !"1" is false)', async () => {
    expect(await evalExpr('!"1"')).toBe(false);
    expect(await evalExpr('"0" || false')).toBe(false);
    expect(await evalExpr('"1" && "true"')).toBe(true);
  });

  it('refuses a condition that is no bool, and a null one', async () => {
    expect((await evalError('"yes" ? 1 : 2'))?.summary).toBe('Incorrect condition type');
    expect((await evalError('[] ? 1 : 2'))?.summary).toBe('Incorrect condition type');
    expect((await evalError('null ? 1 : 2'))?.summary).toBe('Null condition');
  });
});
