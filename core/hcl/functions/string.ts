/** String functions (Packer's HCL2 string family). */
import { currentBudget } from '../../template/limits.ts';
import type { CallInfo } from '../eval/context.ts';
import { fail, toStr, type Value } from '../eval/values.ts';
import { formatString } from './format.ts';
import { argError, type FunctionTable, fixed, int, list, str, variadic } from './helpers.ts';
import { checkInput, compileRegex } from './safe-regex.ts';

function regexMatch(m: RegExpExecArray): Value {
  if (m.groups && Object.keys(m.groups).length > 0) {
    return Object.fromEntries(Object.entries(m.groups).map(([k, v]) => [k, v ?? '']));
  }
  if (m.length > 1) return m.slice(1).map((g) => g ?? '');
  return m[0];
}

function regexFn(all: boolean) {
  return (args: Value[], call: CallInfo): Value => {
    const pattern = str(args, 0, call);
    const input = str(args, 1, call);
    checkInput(input, call.argRanges[1]);
    const re = compileRegex(pattern, 'g', call.argRanges[0]);
    const matches: Value[] = [];
    for (let m = re.exec(input); m; m = re.exec(input)) {
      matches.push(regexMatch(m));
      if (!all) return matches[0] as Value;
      if (m[0] === '') re.lastIndex++;
    }
    if (!all)
      fail(
        'Error in function call',
        'Call to function "regex" failed: pattern did not match any part of the given string.',
        call.range,
      );
    return matches;
  };
}

/** Go-style `$1` / `${name}` replacement syntax for regex replace. */
function goReplacement(repl: string): string {
  return repl
    .replace(/\$\{(\w+)\}/g, (_m, n: string) => (/^\d+$/.test(n) ? `$${n}` : `$<${n}>`))
    .replace(/\$\$/g, '$$$$');
}

function replaceFn(args: Value[], call: CallInfo): Value {
  const s = str(args, 0, call);
  const search = str(args, 1, call);
  const repl = str(args, 2, call);
  if (search.length > 1 && search.startsWith('/') && search.endsWith('/')) {
    checkInput(s, call.argRanges[0]);
    return s.replace(compileRegex(search.slice(1, -1), 'g', call.argRanges[1]), goReplacement(repl));
  }
  return search === '' ? s : s.split(search).join(repl);
}

function trimSet(s: string, cut: string, left: boolean, right: boolean): string {
  const chars = new Set([...cut]);
  const arr = [...s];
  let a = 0;
  let b = arr.length;
  while (left && a < b && chars.has(arr[a] as string)) a++;
  while (right && b > a && chars.has(arr[b - 1] as string)) b--;
  return arr.slice(a, b).join('');
}

export const stringFunctions: FunctionTable = {
  chomp: fixed(1, (a, c) => str(a, 0, c).replace(/(\r\n|\n|\r)+$/, '')),
  format: variadic(1, (a, c) => formatString(str(a, 0, c), a.slice(1), c)),
  formatlist: variadic(1, (a, c) => {
    const fmt = str(a, 0, c);
    const rest = a.slice(1);
    let n = -1;
    rest.forEach((v, i) => {
      if (!Array.isArray(v)) return;
      if (n >= 0 && v.length !== n)
        argError(
          c,
          i + 1,
          `argument ${i + 2} has length ${v.length}, which is inconsistent with argument 2 of length ${n}.`,
        );
      n = v.length;
    });
    if (n < 0) n = 1;
    return Array.from({ length: n }, (_, i) =>
      formatString(
        fmt,
        rest.map((v) => (Array.isArray(v) ? (v[i] as Value) : v)),
        c,
      ),
    );
  }),
  indent: fixed(2, (a, c) => {
    const width = Math.max(0, int(a, 0, c));
    const text = str(a, 1, c);
    const lines = text.split('\n').length;
    currentBudget().stringLength(text.length + (lines - 1) * width, 'The result of indent()', c.range);
    const pad = ' '.repeat(width);
    return text.replace(/\n/g, `\n${pad}`);
  }),
  join: variadic(2, (a, c) => {
    const sep = str(a, 0, c);
    const items = a.slice(1).flatMap((_, i) => list(a, i + 1, c));
    const parts = items.map((v) => toStr(v, c.range));
    const length = parts.reduce((n, p) => n + p.length, 0) + sep.length * Math.max(0, parts.length - 1);
    currentBudget().stringLength(length, 'The result of join()', c.range);
    return parts.join(sep);
  }),
  lower: fixed(1, (a, c) => str(a, 0, c).toLowerCase()),
  upper: fixed(1, (a, c) => str(a, 0, c).toUpperCase()),
  title: fixed(1, (a, c) =>
    str(a, 0, c).replace(/(^|[^\p{L}\p{N}'])(\p{L})/gu, (_m, p: string, ch: string) => p + ch.toUpperCase()),
  ),
  regex: fixed(2, regexFn(false)),
  regexall: fixed(2, regexFn(true)),
  regex_replace: fixed(3, (a, c) => {
    const s = str(a, 0, c);
    checkInput(s, c.argRanges[0]);
    return s.replace(compileRegex(str(a, 1, c), 'g', c.argRanges[1]), goReplacement(str(a, 2, c)));
  }),
  replace: fixed(3, replaceFn),
  split: fixed(2, (a, c) => {
    const sep = str(a, 0, c);
    const s = str(a, 1, c);
    return sep === '' ? [...s] : s.split(sep);
  }),
  strrev: fixed(1, (a, c) => [...str(a, 0, c)].reverse().join('')),
  substr: fixed(3, (a, c) => {
    const chars = [...str(a, 0, c)];
    let offset = int(a, 1, c);
    const length = int(a, 2, c);
    if (offset < 0) offset += chars.length;
    if (offset < 0 || offset > chars.length) argError(c, 1, 'offset out of range');
    return chars.slice(offset, length < 0 ? undefined : offset + length).join('');
  }),
  trim: fixed(2, (a, c) => trimSet(str(a, 0, c), str(a, 1, c), true, true)),
  trimprefix: fixed(2, (a, c) => {
    const s = str(a, 0, c);
    const p = str(a, 1, c);
    return p && s.startsWith(p) ? s.slice(p.length) : s;
  }),
  trimsuffix: fixed(2, (a, c) => {
    const s = str(a, 0, c);
    const p = str(a, 1, c);
    return p && s.endsWith(p) ? s.slice(0, -p.length) : s;
  }),
  trimspace: fixed(1, (a, c) => str(a, 0, c).trim()),
  startswith: fixed(2, (a, c) => str(a, 0, c).startsWith(str(a, 1, c))),
  endswith: fixed(2, (a, c) => str(a, 0, c).endsWith(str(a, 1, c))),
  strcontains: fixed(2, (a, c) => str(a, 0, c).includes(str(a, 1, c))),
};
