/** `format` / `formatlist`: the subset of Go's fmt verbs cty's stdlib supports (%v %s %q %d %f %e %g %t %x %o %b %%). */
import { currentBudget } from '../../template/limits.ts';
import type { CallInfo } from '../eval/context.ts';
import { fail, formatNumber, isObject, toBool, toNum, toStr, type Value } from '../eval/values.ts';

function pad(s: string, width: number | undefined, left: boolean, zero: boolean): string {
  if (width === undefined || s.length >= width) return s;
  currentBudget().stringLength(width, 'A padded format() verb');
  if (left) return s.padEnd(width, ' ');
  if (zero) {
    const neg = s.startsWith('-');
    return (neg ? '-' : '') + (neg ? s.slice(1) : s).padStart(width - (neg ? 1 : 0), '0');
  }
  return s.padStart(width, ' ');
}

function jsonish(v: Value): string {
  return JSON.stringify(v);
}

export function formatString(fmt: string, args: readonly Value[], call: CallInfo): string {
  let out = '';
  let argi = 0;
  const re = /%([-+ #0]*)(\[\d+\])?(\d+|\*)?(?:\.(\d+))?([a-zA-Z%])?/g;
  let last = 0;
  for (let m = re.exec(fmt); m; m = re.exec(fmt)) {
    out += fmt.slice(last, m.index);
    last = re.lastIndex;
    const [, flags = '', explicit, widthStr, precStr, verb] = m;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (!verb)
      fail('Error in function call', 'Call to function "format" failed: unrecognized format character.', call.range);
    if (explicit) argi = Number(explicit.slice(1, -1)) - 1;
    if (argi >= args.length) {
      fail(
        'Error in function call',
        `Call to function "format" failed: not enough arguments for "${m[0]}" at ${m.index}: need index ${argi}, but have ${args.length} total.`,
        call.range,
      );
    }
    const v = args[argi++] as Value;
    const width = widthStr && widthStr !== '*' ? Number(widthStr) : undefined;
    const prec = precStr !== undefined ? Number(precStr) : undefined;
    const left = flags.includes('-');
    const zero = flags.includes('0');
    let s: string;
    switch (verb) {
      case 'v':
        s = typeof v === 'string' ? v : v === null ? 'null' : Array.isArray(v) || isObject(v) ? jsonish(v) : toStr(v);
        if (flags.includes('#')) s = jsonish(v);
        break;
      case 's':
        s = toStr(v, call.range);
        if (prec !== undefined) s = s.slice(0, prec);
        break;
      case 'q':
        s = JSON.stringify(toStr(v, call.range));
        break;
      case 't':
        s = String(toBool(v, call.range));
        break;
      case 'd': {
        const n = toNum(v, call.range);
        if (!Number.isInteger(n))
          fail(
            'Error in function call',
            `Call to function "format" failed: unsupported value for "%d" at ${m.index}: number has no integer representation.`,
            call.range,
          );
        s = (flags.includes('+') && n >= 0 ? '+' : '') + formatNumber(n);
        break;
      }
      case 'f':
      case 'F':
        s = toNum(v, call.range).toFixed(prec ?? 6);
        break;
      case 'e':
      case 'E': {
        const e = toNum(v, call.range)
          .toExponential(prec ?? 6)
          .replace(/e([+-])(\d)$/, 'e$10$2');
        s = verb === 'E' ? e.toUpperCase() : e;
        break;
      }
      case 'g':
      case 'G':
        s = String(toNum(v, call.range));
        break;
      case 'x':
      case 'X': {
        const hex = typeof v === 'string' ? Buffer.from(v).toString('hex') : Math.trunc(toNum(v)).toString(16);
        s = verb === 'X' ? hex.toUpperCase() : hex;
        break;
      }
      case 'o':
        s = Math.trunc(toNum(v, call.range)).toString(8);
        break;
      case 'b':
        s = Math.trunc(toNum(v, call.range)).toString(2);
        break;
      default:
        return fail(
          'Error in function call',
          `Call to function "format" failed: unsupported format verb %${verb}.`,
          call.range,
        );
    }
    out += pad(s, width, left, zero && verb !== 's');
  }
  out += fmt.slice(last);
  return out;
}
