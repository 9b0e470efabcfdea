// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are HCL source, where ${} is HCL interpolation.
/**
 * Operator precedence and associativity, as the HCL native syntax specification (hclsyntax/spec.md, "Operations"
 * and "Conditional Operator") and hclsyntax's parser define them. Each expression goes through the real loader (a
 * local, read back from a source's configuration) and each case is chosen so that any other grouping gives another
 * value or an error: the value proves the grouping. Every value in the first table is the one Debian's packer
 * 1.6.6 (HCL 2) computes for the same expression (checked with `packer build` on the null builder: 56 of 56).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadHclTemplate } from '../../../../core/frontends/hcl/index.ts';

async function load(expr: string) {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-hcl-ops-'));
  const src = `locals {\n  v = ${expr}\n}\n\nsource "null" "x" {\n  out = local.v\n}\n\nbuild {\n  sources = ["source.null.x"]\n}\n`;
  writeFileSync(join(dir, 'main.pkr.hcl'), src);
  return loadHclTemplate('main.pkr.hcl', { cwd: dir });
}

async function value(expr: string): Promise<unknown> {
  const r = await load(expr);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((d) => `${d.summary}: ${d.detail ?? ''}`).join('; '));
  return r.template?.builds[0]?.config.out;
}

async function errorOf(expr: string): Promise<string | undefined> {
  const r = await load(expr);
  return r.diagnostics.find((d) => d.severity === 'error')?.summary;
}

describe('HCL operator grouping', () => {
  // [expression, HCL's value, what the wrong grouping would be]
  it.each([
    // Conditional: right-associative, lowest precedence; a condition never holds an unparenthesized conditional.
    ['true ? "a" : false ? "b" : "c"', 'a', '("a") ? "b" : "c" fails'],
    ['true ? false : true ? false : true', false, '(false) ? false : true = true'],
    ['true ? false : false ? true : true ? true : false', false, 'left-deep chain = true'],
    ['false ? 1 : false ? 2 : false ? 3 : 4', 4, 'same value both ways: the chain still ends on its last branch'],
    ['true ? false ? 1 : 2 : 3', 2, 'a conditional in the true branch'],
    ['(true ? false : true) ? "b" : "c"', 'c', 'explicit parentheses keep the left grouping'],
    ['upper(false ? "a" : true ? "b" : "c")', 'B', 'in a call argument'],
    ['"${true ? "a" : false ? "b" : "c"}"', 'a', 'in an interpolation'],
    ['[for x in [1, 2, 3] : x == 1 ? "one" : x == 2 ? "two" : "many"]', ['one', 'two', 'many'], 'in a for body'],
    ['[for x in [1, 2, 3] : x > 1 ? x * 10 : x + 100 if x != 2]', [101, 30], 'for body and if clause'],
    // Conditional against binary operators.
    ['true ? false : false || true', false, '(false) || true = true'],
    ['true || false ? "a" : "b"', 'a', 'true || (false ? ...) = true'],
    ['true ? 1 : 2 + 10', 1, '(1) + 10 = 11'],
    ['1 + 1 == 2 ? "y" : "n"', 'y', 'condition is the whole comparison'],
    // Logical: && binds tighter than ||, both left-associative.
    ['true || false && false', true, '(true || false) && false = false'],
    ['false && false || true', true, 'false && (false || true) = false'],
    // Equality against logical and comparison.
    ['false && false == false', false, '(false && false) == false = true'],
    ['true || true == false', true, '(true || true) == false = false'],
    ['1 < 2 == true', true, '1 < (2 == true) fails'],
    ['true == 1 < 2', true, '(true == 1) < 2 fails'],
    ['1 == 1 == true', true, '1 == (1 == true) = false'],
    ['1 == 2 != true', true, '1 == (2 != true) = false'],
    // Comparison against arithmetic.
    ['1 + 2 < 4', true, '1 + (2 < 4) fails'],
    ['4 < 1 + 5', true, '(4 < 1) + 5 fails'],
    ['2 >= 1 + 1', true, '(2 >= 1) + 1 fails'],
    ['3 * 2 <= 6', true, '3 * (2 <= 6) fails'],
    ['7 > 2 * 3', true, '(7 > 2) * 3 fails'],
    // Additive: left-associative; multiplicative binds tighter.
    ['10 - 3 - 2', 5, '10 - (3 - 2) = 9'],
    ['10 - 3 + 2', 9, '10 - (3 + 2) = 5'],
    ['2 + 3 * 4', 14, '(2 + 3) * 4 = 20'],
    ['2 * 3 + 4', 10, '2 * (3 + 4) = 14'],
    ['10 - 2 * 3', 4, '(10 - 2) * 3 = 24'],
    ['10 - 7 % 4', 7, '(10 - 7) % 4 = 3'],
    ['20 / 2 + 3', 13, '20 / (2 + 3) = 4'],
    // Multiplicative: left-associative.
    ['8 / 4 / 2', 1, '8 / (4 / 2) = 4'],
    ['2 * 3 % 4', 2, '2 * (3 % 4) = 6'],
    ['7 % 4 * 2', 6, '7 % (4 * 2) = 7'],
    ['12 / 3 * 2', 8, '12 / (3 * 2) = 2'],
    // Unary operators bind tighter than every binary operator, looser than traversals.
    ['-1 + 3', 2, '-(1 + 3) = -4'],
    ['-2 - 3', -5, '-(2 - 3) = 1'],
    ['-2 * 3 + 10', 4, '-(2 * 3 + 10) = -16'],
    ['!true || true', true, '!(true || true) = false'],
    ['!false && false', false, '!(false && false) = true'],
    ['-{a = 2}.a', -2, '(-{a = 2}).a fails'],
    ['-[3, 4][1]', -4, '(-[3, 4])[1] fails'],
    ['!{a = false}.a', true, '(!{a = false}).a fails'],
    ['!!true', true, 'double negation'],
    ['- -2', 2, 'double minus'],
    // Splats: `.*` takes attribute steps only, `[*]` takes attribute and index steps.
    ['[{b = 1}, {b = 2}].*.b[0]', 1, '[for e in ...: e.b[0]] fails'],
    ['[{b = [1, 2]}, {b = [3, 4]}].*.b[1]', [3, 4], 'index applies to the splat result'],
    ['[{b = [1, 2]}, {b = [3, 4]}][*].b[1]', [2, 4], 'index applies to each element'],
    ['[{a = {b = 1}}, {a = {b = 2}}].*.a.b', [1, 2], 'attribute steps stay in the splat'],
    ['[{a = [5, 6]}, {a = [7, 8]}].*.a.0', [5, 7], 'legacy .0 index stays in the attribute splat'],
    ['length([{a = 1}, {a = 2}][*].a) * 2', 4, 'splat inside a call, call inside arithmetic'],
    // Index and attribute chains: left to right.
    ['{a = [{b = "x"}]}.a[0].b', 'x', 'chain of attribute, index, attribute'],
    ['[[1, 2], [3, 4]][1][0] + 1', 4, 'index chain then arithmetic'],
  ])('%s  [%s]', async (expr, expected, _otherwise) => {
    expect(await value(expr)).toEqual(expected);
  });

  it('1 < 2 < 3 is (1 < 2) < 3, and a bool is no number', async () => {
    // HCL words this "Invalid operand"; Kiln's operand conversion says "Invalid value" (see the report).
    expect(await errorOf('1 < 2 < 3')).toBe('Invalid value');
  });
});

describe('hostile operator chains', () => {
  const chain = (n: number) => `${Array.from({ length: n }, (_, i) => `false ? ${i} : `).join('')}"end"`;
  it.each([
    ['a chain of 150 conditionals', chain(150), 'end'],
    ['150 negations', `${'!'.repeat(150)}true`, true],
    ['150 subtractions', Array.from({ length: 151 }, () => '1').join(' - '), -149],
    ['150 chained comparisons of equality', `${'true == '.repeat(150)}true`, true],
  ])('%s', async (_name, expr, expected) => {
    expect(await value(expr)).toEqual(expected);
  });

  it('a chain of conditionals deeper than maxNestingDepth is refused with a diagnostic, not a crash', async () => {
    expect(await errorOf(chain(400))).toMatch(/limit|deep|nest/i);
  });
});
