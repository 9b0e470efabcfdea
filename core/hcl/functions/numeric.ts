/** Numeric functions. */
import { fail } from '../eval/values.ts';
import { argError, type FunctionTable, fixed, int, num, str, variadic } from './helpers.ts';

export const numericFunctions: FunctionTable = {
  abs: fixed(1, (a, c) => Math.abs(num(a, 0, c))),
  ceil: fixed(1, (a, c) => Math.ceil(num(a, 0, c))),
  floor: fixed(1, (a, c) => Math.floor(num(a, 0, c))),
  log: fixed(2, (a, c) => Math.log(num(a, 0, c)) / Math.log(num(a, 1, c))),
  max: variadic(1, (a, c) => Math.max(...a.map((_, i) => num(a, i, c)))),
  min: variadic(1, (a, c) => Math.min(...a.map((_, i) => num(a, i, c)))),
  pow: fixed(2, (a, c) => num(a, 0, c) ** num(a, 1, c)),
  signum: fixed(1, (a, c) => Math.sign(num(a, 0, c))),
  parseint: fixed(2, (a, c) => {
    const s = str(a, 0, c);
    const base = int(a, 1, c);
    if (base < 2 || base > 62) argError(c, 1, 'base must be a whole number between 2 and 62 inclusive.');
    const digits = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'.slice(0, base);
    const neg = s.startsWith('-');
    const body = s.replace(/^[-+]/, '');
    const lookup = base <= 36 ? body.toLowerCase() : body;
    if (body === '' || [...lookup].some((ch) => !digits.includes(ch))) {
      fail(
        'Error in function call',
        `Call to function "parseint" failed: cannot parse "${s}" as a base ${base} integer.`,
        c.range,
      );
    }
    let n = 0;
    for (const ch of lookup) n = n * base + digits.indexOf(ch);
    return neg ? -n : n;
  }),
};
