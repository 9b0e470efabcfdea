/**
 * Time formatting as Packer's `isotime` (Go reference-time layouts, "Mon Jan 2 15:04:05 MST 2006") and
 * `strftime` (jehiah/go-strftime directives). Packer formats its init time in UTC, so zones print as UTC.
 */

export const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
export const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

const pad = (n: number, width: number, fill = '0') => String(n).padStart(width, fill);

function dayOfYear(t: Date): number {
  const start = Date.UTC(t.getUTCFullYear(), 0, 1);
  return Math.floor((t.getTime() - start) / 86_400_000) + 1;
}

function hour12(t: Date): number {
  const h = t.getUTCHours() % 12;
  return h === 0 ? 12 : h;
}

/** Go layout tokens, longest first where one is a prefix of another (as Go's nextStdChunk does). */
const GO_TOKENS: readonly (readonly [string, (t: Date) => string])[] = [
  ['January', (t) => MONTHS[t.getUTCMonth()] ?? ''],
  ['Jan', (t) => (MONTHS[t.getUTCMonth()] ?? '').slice(0, 3)],
  ['Monday', (t) => DAYS[t.getUTCDay()] ?? ''],
  ['Mon', (t) => (DAYS[t.getUTCDay()] ?? '').slice(0, 3)],
  ['MST', () => 'UTC'],
  ['2006', (t) => pad(t.getUTCFullYear(), 4)],
  ['-07:00:00', () => '+00:00:00'],
  ['-0700', () => '+0000'],
  ['-07:00', () => '+00:00'],
  ['-07', () => '+00'],
  ['Z07:00:00', () => 'Z'],
  ['Z0700', () => 'Z'],
  ['Z07:00', () => 'Z'],
  ['Z07', () => 'Z'],
  ['002', (t) => pad(dayOfYear(t), 3)],
  ['__2', (t) => pad(dayOfYear(t), 3, ' ')],
  ['_2', (t) => pad(t.getUTCDate(), 2, ' ')],
  ['01', (t) => pad(t.getUTCMonth() + 1, 2)],
  ['02', (t) => pad(t.getUTCDate(), 2)],
  ['03', (t) => pad(hour12(t), 2)],
  ['04', (t) => pad(t.getUTCMinutes(), 2)],
  ['05', (t) => pad(t.getUTCSeconds(), 2)],
  ['06', (t) => pad(t.getUTCFullYear() % 100, 2)],
  ['15', (t) => pad(t.getUTCHours(), 2)],
  ['PM', (t) => (t.getUTCHours() >= 12 ? 'PM' : 'AM')],
  ['pm', (t) => (t.getUTCHours() >= 12 ? 'pm' : 'am')],
  ['1', (t) => String(t.getUTCMonth() + 1)],
  ['2', (t) => String(t.getUTCDate())],
  ['3', (t) => String(hour12(t))],
  ['4', (t) => String(t.getUTCMinutes())],
  ['5', (t) => String(t.getUTCSeconds())],
];

/** Fractional seconds: `.000` / `,000` (fixed digits) and `.999` (trailing zeros dropped), after a seconds field. */
function fraction(t: Date, digits: number, trim: boolean, sep: string): string {
  // JS dates carry milliseconds; finer digits are zero.
  const frac = `${pad(t.getUTCMilliseconds(), 3)}000000`.slice(0, digits);
  if (!trim) return sep + frac;
  const trimmed = frac.replace(/0+$/, '');
  return trimmed ? sep + trimmed : '';
}

/** Formats `t` (as UTC) with a Go reference-time layout such as "2006-01-02T15:04:05Z07:00". */
export function formatGoTime(t: Date, layout: string): string {
  let out = '';
  let i = 0;
  while (i < layout.length) {
    const c = layout[i];
    if ((c === '.' || c === ',') && (layout[i + 1] === '0' || layout[i + 1] === '9')) {
      const digit = layout[i + 1] as string;
      let j = i + 1;
      while (layout[j] === digit) j++;
      // Go treats it as a fraction only when no digit follows the run.
      if (!/[0-9]/.test(layout[j] ?? '')) {
        out += fraction(t, j - i - 1, digit === '9', c);
        i = j;
        continue;
      }
    }
    const token = GO_TOKENS.find(([tok]) => layout.startsWith(tok, i));
    if (token) {
      out += token[1](t);
      i += token[0].length;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

export const RFC3339 = '2006-01-02T15:04:05Z07:00';

/** strftime directives as implemented by github.com/jehiah/go-strftime (what Packer uses). */
export function formatStrftime(t: Date, format: string): string {
  const directive = (d: string): string | undefined => {
    switch (d) {
      case 'A':
        return DAYS[t.getUTCDay()];
      case 'a':
        return DAYS[t.getUTCDay()]?.slice(0, 3);
      case 'B':
        return MONTHS[t.getUTCMonth()];
      case 'b':
      case 'h':
        return MONTHS[t.getUTCMonth()]?.slice(0, 3);
      case 'c':
        return formatGoTime(t, 'Mon Jan _2 15:04:05 2006');
      case 'C':
        return pad(Math.floor(t.getUTCFullYear() / 100), 2);
      case 'D':
        return formatGoTime(t, '01/02/06');
      case 'd':
        return pad(t.getUTCDate(), 2);
      case 'e':
        return pad(t.getUTCDate(), 2, ' ');
      case 'F':
        return formatGoTime(t, '2006-01-02');
      case 'H':
        return pad(t.getUTCHours(), 2);
      case 'I':
        return pad(hour12(t), 2);
      case 'j':
        return pad(dayOfYear(t), 3);
      case 'k':
        return pad(t.getUTCHours(), 2, ' ');
      case 'L':
        return pad(t.getUTCMilliseconds(), 3);
      case 'l':
        return pad(hour12(t), 2, ' ');
      case 'M':
        return pad(t.getUTCMinutes(), 2);
      case 'm':
        return pad(t.getUTCMonth() + 1, 2);
      case 'n':
        return '\n';
      case 'p':
        return t.getUTCHours() >= 12 ? 'PM' : 'AM';
      case 'r':
        return formatGoTime(t, '03:04:05 PM');
      case 'R':
        return formatGoTime(t, '15:04');
      case 'S':
        return pad(t.getUTCSeconds(), 2);
      case 's':
        return String(Math.floor(t.getTime() / 1000));
      case 'T':
        return formatGoTime(t, '15:04:05');
      case 't':
        return '\t';
      case 'u':
        return String(t.getUTCDay() === 0 ? 7 : t.getUTCDay());
      case 'w':
        return String(t.getUTCDay());
      case 'Y':
        return pad(t.getUTCFullYear(), 4);
      case 'y':
        return pad(t.getUTCFullYear() % 100, 2);
      case 'Z':
        return 'UTC';
      case 'z':
        return '+0000';
      case '%':
        return '%';
      default:
        return undefined;
    }
  };
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c !== '%' || i + 1 >= format.length) {
      out += c;
      continue;
    }
    const d = format[i + 1] as string;
    const v = directive(d);
    // Unknown directives are kept as written, like go-strftime.
    out += v ?? `%${d}`;
    i++;
  }
  return out;
}
