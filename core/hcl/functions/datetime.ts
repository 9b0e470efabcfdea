/**
 * Date and time functions. `timestamp`/`legacy_isotime`/`legacy_strftime` read the environment clock (LoadOptions.now
 * in tests and plans), so evaluation is reproducible. All times are UTC, as Packer's are.
 */

import { DAYS, MONTHS } from '../../template/legacy/goTime.ts';
import { parseGoDuration as parseGoDurationSeconds } from '../../values/duration.ts';
import type { CallInfo } from '../eval/context.ts';
import { fail } from '../eval/values.ts';
import { argError, type FunctionTable, fixed, str } from './helpers.ts';

const p2 = (n: number) => String(n).padStart(2, '0');

export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function parseRfc3339(s: string, call: CallInfo, i: number): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.exec(s);
  const d = m ? new Date(s) : undefined;
  if (!d || Number.isNaN(d.getTime())) argError(call, i, `not a valid RFC3339 timestamp: "${s}".`);
  return d;
}

/** Go duration strings in milliseconds (`timeadd`); the one parser is core/values/duration.ts. */
export function parseGoDuration(s: string): number | undefined {
  const seconds = parseGoDurationSeconds(s);
  return seconds === undefined ? undefined : Math.round(seconds * 1e6) / 1e3;
}

/** Terraform/Packer `formatdate` specification tokens. */
function formatDate(spec: string, d: Date, call: CallInfo): string {
  const h = d.getUTCHours();
  const tokens: Record<string, () => string> = {
    YYYY: () => String(d.getUTCFullYear()).padStart(4, '0'),
    YY: () => p2(d.getUTCFullYear() % 100),
    MMMM: () => MONTHS[d.getUTCMonth()] as string,
    MMM: () => (MONTHS[d.getUTCMonth()] as string).slice(0, 3),
    MM: () => p2(d.getUTCMonth() + 1),
    M: () => String(d.getUTCMonth() + 1),
    DD: () => p2(d.getUTCDate()),
    D: () => String(d.getUTCDate()),
    EEEE: () => DAYS[d.getUTCDay()] as string,
    EEE: () => (DAYS[d.getUTCDay()] as string).slice(0, 3),
    hh: () => p2(h),
    h: () => String(h),
    HH: () => p2(h % 12 === 0 ? 12 : h % 12),
    H: () => String(h % 12 === 0 ? 12 : h % 12),
    AA: () => (h < 12 ? 'AM' : 'PM'),
    aa: () => (h < 12 ? 'am' : 'pm'),
    mm: () => p2(d.getUTCMinutes()),
    m: () => String(d.getUTCMinutes()),
    ss: () => p2(d.getUTCSeconds()),
    s: () => String(d.getUTCSeconds()),
    ZZZZZ: () => '+00:00',
    ZZZZ: () => '+0000',
    ZZZ: () => 'UTC',
    Z: () => 'Z',
  };
  let out = '';
  let i = 0;
  while (i < spec.length) {
    const ch = spec[i] as string;
    if (ch === "'") {
      const end = spec.indexOf("'", i + 1);
      if (end < 0) argError(call, 0, "unterminated literal '");
      out += end === i + 1 ? "'" : spec.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if (/[A-Za-z]/.test(ch)) {
      let j = i;
      while (spec[j] === ch) j++;
      const run = spec.slice(i, j);
      const fn = tokens[run];
      if (!fn) argError(call, 0, `invalid date format verb "${run}".`);
      out += fn();
      i = j;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

/** Go reference-time layouts (`2006-01-02T15:04:05Z07:00`), for `legacy_isotime`. */
export function formatGoLayout(layout: string, d: Date): string {
  const h = d.getUTCHours();
  const table: [string, () => string][] = [
    ['January', () => MONTHS[d.getUTCMonth()] as string],
    ['Monday', () => DAYS[d.getUTCDay()] as string],
    ['2006', () => String(d.getUTCFullYear())],
    ['Jan', () => (MONTHS[d.getUTCMonth()] as string).slice(0, 3)],
    ['Mon', () => (DAYS[d.getUTCDay()] as string).slice(0, 3)],
    ['MST', () => 'UTC'],
    ['Z07:00', () => 'Z'],
    ['-07:00', () => '+00:00'],
    ['-0700', () => '+0000'],
    ['Z0700', () => 'Z'],
    ['.000000000', () => `.${String(d.getUTCMilliseconds()).padStart(3, '0')}000000`],
    ['.000000', () => `.${String(d.getUTCMilliseconds()).padStart(3, '0')}000`],
    ['.000', () => `.${String(d.getUTCMilliseconds()).padStart(3, '0')}`],
    ['01', () => p2(d.getUTCMonth() + 1)],
    ['02', () => p2(d.getUTCDate())],
    ['_2', () => String(d.getUTCDate()).padStart(2, ' ')],
    ['06', () => p2(d.getUTCFullYear() % 100)],
    ['15', () => p2(h)],
    ['03', () => p2(h % 12 === 0 ? 12 : h % 12)],
    ['04', () => p2(d.getUTCMinutes())],
    ['05', () => p2(d.getUTCSeconds())],
    ['PM', () => (h < 12 ? 'AM' : 'PM')],
    ['pm', () => (h < 12 ? 'am' : 'pm')],
    ['1', () => String(d.getUTCMonth() + 1)],
    ['2', () => String(d.getUTCDate())],
    ['3', () => String(h % 12 === 0 ? 12 : h % 12)],
    ['4', () => String(d.getUTCMinutes())],
    ['5', () => String(d.getUTCSeconds())],
  ];
  let out = '';
  let i = 0;
  outer: while (i < layout.length) {
    for (const [tok, fn] of table) {
      if (layout.startsWith(tok, i)) {
        out += fn();
        i += tok.length;
        continue outer;
      }
    }
    out += layout[i];
    i++;
  }
  return out;
}

function strftime(fmt: string, d: Date): string {
  const h = d.getUTCHours();
  const map: Record<string, () => string> = {
    Y: () => String(d.getUTCFullYear()),
    y: () => p2(d.getUTCFullYear() % 100),
    m: () => p2(d.getUTCMonth() + 1),
    d: () => p2(d.getUTCDate()),
    e: () => String(d.getUTCDate()).padStart(2, ' '),
    H: () => p2(h),
    I: () => p2(h % 12 === 0 ? 12 : h % 12),
    M: () => p2(d.getUTCMinutes()),
    S: () => p2(d.getUTCSeconds()),
    p: () => (h < 12 ? 'AM' : 'PM'),
    B: () => MONTHS[d.getUTCMonth()] as string,
    b: () => (MONTHS[d.getUTCMonth()] as string).slice(0, 3),
    A: () => DAYS[d.getUTCDay()] as string,
    a: () => (DAYS[d.getUTCDay()] as string).slice(0, 3),
    j: () => String(Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1).padStart(3, '0'),
    Z: () => 'UTC',
    z: () => '+0000',
    s: () => String(Math.floor(d.getTime() / 1000)),
    F: () => `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}`,
    T: () => `${p2(h)}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`,
    '%': () => '%',
  };
  return fmt.replace(/%(.)/g, (m, ch: string) => map[ch]?.() ?? m);
}

export const datetimeFunctions: FunctionTable = {
  timestamp: fixed(0, (_a, c) => rfc3339(c.ctx.environment.now())),
  formatdate: fixed(2, (a, c) => formatDate(str(a, 0, c), parseRfc3339(str(a, 1, c), c, 1), c)),
  timeadd: fixed(2, (a, c) => {
    const d = parseRfc3339(str(a, 0, c), c, 0);
    const ms = parseGoDuration(str(a, 1, c));
    if (ms === undefined)
      fail(
        'Error in function call',
        `Call to function "timeadd" failed: time: invalid duration "${str(a, 1, c)}".`,
        c.argRanges[1],
      );
    return rfc3339(new Date(d.getTime() + ms));
  }),
  legacy_isotime: {
    min: 0,
    max: 1,
    impl: (a, c) => {
      const now = c.ctx.environment.now();
      return a.length === 0 ? rfc3339(now) : formatGoLayout(str(a, 0, c), now);
    },
  },
  legacy_strftime: fixed(1, (a, c) => strftime(str(a, 0, c), c.ctx.environment.now())),
};
