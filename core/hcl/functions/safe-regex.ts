/**
 * Go RE2 patterns run on JS's backtracking engine. RE2 is linear-time, JS is not, so patterns with nested
 * quantifiers (`(a+)+`, `(a|a)*`...) are rejected and inputs are size-capped: a hostile regex becomes a
 * diagnostic in bounded time instead of hanging the loader.
 */

import type { SourceRange } from '../../template/diagnostics.ts';
import { fail } from '../eval/values.ts';

const MAX_PATTERN = 2_000;
export const MAX_REGEX_INPUT = 1_000_000;

/** A quantified group whose body itself contains a quantifier or alternation. */
function hasNestedQuantifier(pattern: string): boolean {
  const stack: { quantified: boolean; alternation: boolean }[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') stack.push({ quantified: false, alternation: false });
    else if (c === '|') {
      const top = stack[stack.length - 1];
      if (top) top.alternation = true;
    } else if (c === ')') {
      const group = stack.pop();
      const next = pattern[i + 1];
      const quantifiedAfter = next === '*' || next === '+' || next === '{';
      if (group && quantifiedAfter && (group.quantified || group.alternation)) return true;
      const parent = stack[stack.length - 1];
      if (parent && (group?.quantified || quantifiedAfter)) parent.quantified = true;
    } else if (c === '*' || c === '+' || c === '{') {
      const top = stack[stack.length - 1];
      if (top) top.quantified = true;
    }
  }
  return false;
}

export function compileRegex(pattern: string, flags: string, range?: SourceRange): RegExp {
  if (pattern.length > MAX_PATTERN) fail('Invalid regular expression', 'Pattern is too long.', range);
  if (hasNestedQuantifier(pattern)) {
    fail(
      'Invalid regular expression',
      `Pattern ${JSON.stringify(pattern)} has nested quantifiers that can backtrack exponentially; Kiln rejects it.`,
      range,
    );
  }
  let p = pattern.replace(/\(\?P</g, '(?<');
  let f = flags;
  const inline = /^\(\?([imsU]+)\)/.exec(p);
  if (inline) {
    p = p.slice(inline[0].length);
    for (const ch of inline[1] as string) if ('ims'.includes(ch) && !f.includes(ch)) f += ch;
  }
  p = p.replace(/\\z/g, '$').replace(/\\A/g, '^');
  try {
    return new RegExp(p, `${f}u`);
  } catch {
    try {
      return new RegExp(p, f);
    } catch (e) {
      return fail('Invalid regular expression', `Pattern ${JSON.stringify(pattern)}: ${(e as Error).message}`, range);
    }
  }
}

export function checkInput(s: string, range?: SourceRange): void {
  if (s.length > MAX_REGEX_INPUT)
    fail(
      'Invalid function argument',
      `Input longer than ${MAX_REGEX_INPUT} characters for a regular expression.`,
      range,
    );
}
