/**
 * Reference reader for PowerShell verbatim (single-quoted) string literals, written from the PowerShell
 * language specification §2.3.5.2: the literal opens and closes with a single-quote-character (ASCII ' or
 * U+2018, U+2019, U+201A, U+201B); inside, two single-quote-characters in a row stand for one quote; every
 * other character, newlines included, is itself. Used to check `psq` without a real PowerShell.
 */
export const PS_QUOTE_CHARS = new Set(["'", '\u2018', '\u2019', '\u201A', '\u201B']);

export function readPsVerbatim(text: string, start: number): { value: string; end: number } {
  if (!PS_QUOTE_CHARS.has(text[start] ?? '')) throw new Error(`no single-quote character at ${start}`);
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i] as string;
    if (PS_QUOTE_CHARS.has(c)) {
      const next = text[i + 1];
      if (next !== undefined && PS_QUOTE_CHARS.has(next)) {
        value += next;
        i += 2;
        continue;
      }
      return { value, end: i + 1 };
    }
    value += c;
    i++;
  }
  throw new Error('unterminated verbatim string');
}
