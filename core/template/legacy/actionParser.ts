/**
 * Reads the inside of one `{{ }}` action: pipelines, commands and operands, following Go's text/template
 * lexer (quoting, numbers, fields, trim markers) and its error messages. Recursion only for parentheses,
 * bounded by MAX_PAREN_DEPTH.
 */
import type { Command, Pipeline, Term } from './ast.ts';

const MAX_PAREN_DEPTH = 100;

export function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}
function isAlnum(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_]/.test(c);
}
function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

export class Failure {
  constructor(
    readonly error: string,
    readonly offset: number,
  ) {}
}

/** Go's `%#U`-ish rendering used in "unrecognized character in action: U+0025 '%'". */
function describeChar(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')} '${c}'`;
}

export class ActionParser {
  pos: number;
  constructor(
    private readonly text: string,
    start: number,
    private readonly isFunction: (name: string) => boolean,
  ) {
    this.pos = start;
  }

  private peek(o = 0): string | undefined {
    return this.text[this.pos + o];
  }

  /** True at `}}` or ` -}}` (the trim marker needs the space before it, as in Go). */
  atClose(): boolean {
    if (this.text.startsWith('}}', this.pos)) return true;
    return isSpace(this.peek()) && this.text.startsWith('-}}', this.pos + 1);
  }

  /** Moves to the closing delimiter, stepping over quoted strings (control actions are not evaluated). */
  skipToClose(): void {
    while (this.pos < this.text.length && !this.atClose()) {
      const c = this.peek();
      if (c === '"') this.quoted();
      else if (c === '`') this.raw();
      else this.pos++;
    }
  }

  skipSpaces(): void {
    while (isSpace(this.peek()) && !this.atClose()) this.pos++;
  }

  /** Consumes the closing delimiter; returns true when it trims the following text. */
  close(): boolean {
    if (this.text.startsWith('}}', this.pos)) {
      this.pos += 2;
      return false;
    }
    this.pos += 4;
    return true;
  }

  parsePipeline(depth: number, inParens: boolean): Pipeline {
    const start = this.pos;
    const commands: Command[] = [];
    for (;;) {
      this.skipSpaces();
      const cmd = this.parseCommand(depth, inParens);
      commands.push(cmd);
      this.skipSpaces();
      if (this.peek() === '|') {
        this.pos++;
        continue;
      }
      break;
    }
    return { commands, pos: start };
  }

  private parseCommand(depth: number, inParens: boolean): Command {
    const start = this.pos;
    const args: Term[] = [];
    for (;;) {
      this.skipSpaces();
      if (this.pos >= this.text.length) throw new Failure('unclosed action', this.pos);
      if (this.atClose() || this.peek() === '|' || (inParens && this.peek() === ')')) break;
      if (this.peek() === ')') throw new Failure('unexpected right paren', this.pos);
      const term = this.parseTerm(depth);
      args.push(term);
      const c = this.peek();
      if (c !== undefined && !isSpace(c) && c !== '|' && c !== ')' && !this.atClose()) {
        if (c === '(') throw new Failure(`unexpected "(" in operand`, this.pos);
        throw new Failure(`unexpected "${c}" in operand`, this.pos);
      }
    }
    if (args.length === 0) throw new Failure('missing value for command', this.pos);
    return { args, pos: start };
  }

  private parseTerm(depth: number): Term {
    const start = this.pos;
    const c = this.peek() ?? '';
    if (c === '"') return { kind: 'string', value: this.quoted(), pos: start };
    if (c === '`') return { kind: 'string', value: this.raw(), pos: start };
    if (c === "'") return { kind: 'string', value: this.charConstant(), pos: start };
    if (c === '(') {
      if (depth >= MAX_PAREN_DEPTH) throw new Failure('too many nested parentheses', this.pos);
      this.pos++;
      const pipe = this.parsePipeline(depth + 1, true);
      this.skipSpaces();
      if (this.peek() !== ')') throw new Failure('unclosed left paren', start);
      this.pos++;
      return { kind: 'pipeline', pipe, pos: start };
    }
    if (isDigit(c) || ((c === '-' || c === '+') && isDigit(this.peek(1))) || (c === '.' && isDigit(this.peek(1)))) {
      return this.number();
    }
    if (c === '.') {
      if (!isAlnum(this.peek(1))) {
        this.pos++;
        return { kind: 'dot', pos: start };
      }
      const path: string[] = [];
      while (this.peek() === '.' && isAlnum(this.peek(1))) {
        this.pos++;
        const s = this.pos;
        while (isAlnum(this.peek())) this.pos++;
        path.push(this.text.slice(s, this.pos));
      }
      return { kind: 'field', path, pos: start };
    }
    if (c === '$') {
      this.pos++;
      const s = this.pos;
      while (isAlnum(this.peek())) this.pos++;
      return { kind: 'variable', name: this.text.slice(s, this.pos), pos: start };
    }
    if (isAlnum(c)) {
      while (isAlnum(this.peek())) this.pos++;
      const name = this.text.slice(start, this.pos);
      if (name === 'true' || name === 'false') return { kind: 'bool', value: name === 'true', pos: start };
      if (name === 'nil') return { kind: 'nil', pos: start };
      if (!this.isFunction(name)) throw new Failure(`function "${name}" not defined`, start);
      return { kind: 'identifier', name, pos: start };
    }
    throw new Failure(`unrecognized character in action: ${describeChar(c)}`, start);
  }

  private number(): Term {
    const start = this.pos;
    while (/[0-9A-Za-z_.+-]/.test(this.peek() ?? '')) {
      const ch = this.peek();
      // A sign only belongs to the number at its start or right after an exponent marker.
      if ((ch === '+' || ch === '-') && this.pos > start && !/[eEpP]/.test(this.text[this.pos - 1] ?? '')) break;
      this.pos++;
    }
    const text = this.text.slice(start, this.pos);
    const cleaned = text.replaceAll('_', '');
    const value = /^[+-]?0[xX]/.test(cleaned) ? Number.parseInt(cleaned, 16) : Number(cleaned);
    if (!Number.isFinite(value)) throw new Failure(`bad number syntax: "${text}"`, start);
    return { kind: 'number', value, text, pos: start };
  }

  private quoted(): string {
    const start = this.pos;
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === '\n') throw new Failure('unterminated quoted string', start);
      this.pos++;
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      out += this.escape(start);
    }
  }

  private escape(start: number): string {
    const e = this.peek();
    this.pos++;
    const simple: Record<string, string> = {
      n: '\n',
      t: '\t',
      r: '\r',
      '\\': '\\',
      '"': '"',
      "'": "'",
      a: '\u0007',
      b: '\b',
      f: '\f',
      v: '\v',
    };
    if (e !== undefined && simple[e] !== undefined) return simple[e];
    const hexLen = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hexLen > 0) {
      const hex = this.text.slice(this.pos, this.pos + hexLen);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== hexLen) throw new Failure('invalid syntax', start);
      this.pos += hexLen;
      return String.fromCodePoint(Number.parseInt(hex, 16));
    }
    throw new Failure('invalid syntax', start);
  }

  private raw(): string {
    const start = this.pos;
    const end = this.text.indexOf('`', start + 1);
    if (end < 0) throw new Failure('unterminated raw quoted string', start);
    this.pos = end + 1;
    return this.text.slice(start + 1, end);
  }

  private charConstant(): string {
    const start = this.pos;
    this.pos++;
    let c = this.peek();
    if (c === undefined || c === '\n') throw new Failure('unterminated character constant', start);
    if (c === '\\') {
      this.pos++;
      c = this.escape(start);
    } else {
      this.pos++;
    }
    if (this.peek() !== "'") throw new Failure('malformed character constant', start);
    this.pos++;
    // Go gives a rune (an integer); as text it is the character, which is what Packer users mean.
    return c;
  }
}
