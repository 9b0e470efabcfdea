/**
 * Strict JSON parser that keeps positions and reports errors exactly as Go's encoding/json does (Packer's
 * wording: `invalid character 'x' after object key:value pair`, with Go's byte offset), and duplicate keys as
 * Packer does (`template has duplicate field: foo`). Iterative with an explicit stack, so deep nesting cannot
 * overflow the call stack; nesting beyond Go's limit (10000) is a syntax error, as in Go.
 */
import type { JsonEntry, JsonNode, JsonSpan } from './jsonAst.ts';

export const MAX_NESTING_DEPTH = 10_000;

export interface JsonSyntaxError {
  readonly kind: 'syntax';
  /** Go's message, e.g. `invalid character '*' looking for beginning of value`. */
  readonly message: string;
  /** UTF-16 index of the offending character (the end of the text for "unexpected end"). */
  readonly index: number;
}

export interface JsonDuplicateKey {
  readonly kind: 'duplicate';
  readonly key: string;
  /** Where the second occurrence of the key is written. */
  readonly keySpan: JsonSpan;
}

export type JsonParseResult =
  | {
      readonly ok: true;
      readonly value: JsonNode;
      readonly duplicate?: JsonDuplicateKey;
      /** Where nesting first went past the caller's depth limit (below Go's own limit, so not a syntax error). */
      readonly tooDeepAt?: number;
    }
  | { readonly ok: false; readonly error: JsonSyntaxError };

/** Go's quoteChar for a byte in a syntax error. */
function quoteChar(text: string, index: number): string {
  const ch = text.codePointAt(index) ?? 0;
  // Go reports the first byte of the UTF-8 sequence as a Latin-1 rune.
  const byte = ch < 0x80 ? ch : (Buffer.from(String.fromCodePoint(ch), 'utf8')[0] ?? 0);
  if (byte === 0x27) return `'\\''`;
  if (byte === 0x22) return `'"'`;
  const quoted = JSON.stringify(String.fromCharCode(byte)).slice(1, -1);
  const goEscaped = quoted.replace(/\\u00([0-9a-f]{2})/g, '\\x$1');
  return `'${goEscaped}'`;
}

class SyntaxFailure {
  constructor(
    readonly message: string,
    readonly index: number,
  ) {}
}

interface ObjectFrame {
  readonly kind: 'object';
  readonly start: number;
  readonly entries: JsonEntry[];
  readonly seen: Set<string>;
  key?: string;
  keySpan?: JsonSpan;
}
interface ArrayFrame {
  readonly kind: 'array';
  readonly start: number;
  readonly items: JsonNode[];
}
type Frame = ObjectFrame | ArrayFrame;

const isWs = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

class Parser {
  private i = 0;
  private duplicate: JsonDuplicateKey | undefined;
  private tooDeepAt: number | undefined;
  constructor(
    private readonly text: string,
    private readonly depthLimit: number,
  ) {}

  private fail(context: string, at = this.i): never {
    if (at >= this.text.length) throw new SyntaxFailure('unexpected end of JSON input', this.text.length);
    throw new SyntaxFailure(`invalid character ${quoteChar(this.text, at)} ${context}`, at);
  }

  private skipWs(): void {
    const t = this.text;
    while (this.i < t.length && isWs(t.charCodeAt(this.i))) this.i++;
  }

  parse(): JsonParseResult {
    try {
      const value = this.document();
      return {
        ok: true,
        value,
        ...(this.duplicate ? { duplicate: this.duplicate } : {}),
        ...(this.tooDeepAt !== undefined ? { tooDeepAt: this.tooDeepAt } : {}),
      };
    } catch (e) {
      if (e instanceof SyntaxFailure)
        return { ok: false, error: { kind: 'syntax', message: e.message, index: e.index } };
      throw e;
    }
  }

  private document(): JsonNode {
    const stack: Frame[] = [];
    let result: JsonNode | undefined;
    // Each turn either opens a container or completes a value, then attaches it to the frame below.
    for (;;) {
      this.skipWs();
      let value: JsonNode | undefined;
      const c = this.text.charCodeAt(this.i);
      if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
        if (stack.length >= MAX_NESTING_DEPTH) throw new SyntaxFailure('exceeded max depth', this.i);
        if (stack.length >= this.depthLimit) this.tooDeepAt ??= this.i;
        const start = this.i++;
        this.skipWs();
        if (c === 0x7b) {
          const frame: ObjectFrame = { kind: 'object', start, entries: [], seen: new Set() };
          if (this.text.charCodeAt(this.i) === 0x7d) {
            this.i++;
            value = { kind: 'object', entries: [], start, end: this.i };
          } else {
            this.readKey(frame);
            stack.push(frame);
            continue;
          }
        } else if (this.text.charCodeAt(this.i) === 0x5d) {
          this.i++;
          value = { kind: 'array', items: [], start, end: this.i };
        } else {
          stack.push({ kind: 'array', start, items: [] });
          continue;
        }
      } else {
        value = this.scalar();
      }
      // Attach the finished value, closing every container that ends right after it.
      for (;;) {
        const top = stack.at(-1);
        if (!top) {
          result = value;
          break;
        }
        this.skipWs();
        const next = this.text.charCodeAt(this.i);
        if (top.kind === 'object') {
          top.entries.push({ key: top.key as string, keySpan: top.keySpan as JsonSpan, value });
          if (next === 0x2c /* , */) {
            this.i++;
            this.skipWs();
            this.readKey(top);
            break;
          }
          if (next !== 0x7d) this.fail('after object key:value pair');
          this.i++;
          stack.pop();
          value = { kind: 'object', entries: top.entries, start: top.start, end: this.i };
        } else {
          top.items.push(value);
          if (next === 0x2c) {
            this.i++;
            break;
          }
          if (next !== 0x5d) this.fail('after array element');
          this.i++;
          stack.pop();
          value = { kind: 'array', items: top.items, start: top.start, end: this.i };
        }
      }
      if (result) break;
    }
    this.skipWs();
    if (this.i < this.text.length) this.fail('after top-level value');
    return result;
  }

  /** Reads `"key" :` into the frame; remembers the first duplicate key in document order. */
  private readKey(frame: ObjectFrame): void {
    if (this.text.charCodeAt(this.i) !== 0x22) this.fail('looking for beginning of object key string');
    const start = this.i;
    const key = this.string();
    const keySpan = { start, end: this.i };
    if (frame.seen.has(key)) {
      this.duplicate ??= { kind: 'duplicate', key, keySpan };
    }
    frame.seen.add(key);
    frame.key = key;
    frame.keySpan = keySpan;
    this.skipWs();
    if (this.text.charCodeAt(this.i) !== 0x3a /* : */) this.fail('after object key');
    this.i++;
  }

  private scalar(): JsonNode {
    const start = this.i;
    const c = this.text.charCodeAt(this.i);
    if (c === 0x22) {
      const value = this.string();
      return { kind: 'string', value, start, end: this.i };
    }
    if (c === 0x2d || isDigit(c)) return this.number();
    for (const [word, node] of [
      ['true', { kind: 'bool', value: true }],
      ['false', { kind: 'bool', value: false }],
      ['null', { kind: 'null' }],
    ] as const) {
      if (c === word.charCodeAt(0)) {
        for (let k = 1; k < word.length; k++) {
          if (this.text.charCodeAt(this.i + k) !== word.charCodeAt(k)) {
            this.fail(`in literal ${word} (expecting '${word[k]}')`, this.i + k);
          }
        }
        this.i += word.length;
        return { ...node, start, end: this.i } as JsonNode;
      }
    }
    return this.fail('looking for beginning of value');
  }

  private number(): JsonNode {
    const t = this.text;
    const start = this.i;
    if (t.charCodeAt(this.i) === 0x2d) {
      this.i++;
      if (!isDigit(t.charCodeAt(this.i))) this.fail('in numeric literal');
    }
    if (t.charCodeAt(this.i) === 0x30) this.i++;
    else while (isDigit(t.charCodeAt(this.i))) this.i++;
    if (t.charCodeAt(this.i) === 0x2e) {
      this.i++;
      if (!isDigit(t.charCodeAt(this.i))) this.fail('after decimal point in numeric literal');
      while (isDigit(t.charCodeAt(this.i))) this.i++;
    }
    const e = t.charCodeAt(this.i);
    if (e === 0x65 || e === 0x45) {
      this.i++;
      const sign = t.charCodeAt(this.i);
      if (sign === 0x2b || sign === 0x2d) this.i++;
      if (!isDigit(t.charCodeAt(this.i))) this.fail('in exponent of numeric literal');
      while (isDigit(t.charCodeAt(this.i))) this.i++;
    }
    const raw = t.slice(start, this.i);
    return { kind: 'number', value: Number(raw), raw, start, end: this.i };
  }

  /** Reads a string literal starting at the opening quote; leaves `i` past the closing quote. */
  private string(): string {
    const t = this.text;
    this.i++;
    let out = '';
    let chunkStart = this.i;
    for (;;) {
      if (this.i >= t.length) this.fail('in string literal');
      const c = t.charCodeAt(this.i);
      if (c === 0x22) {
        out += t.slice(chunkStart, this.i);
        this.i++;
        return out;
      }
      if (c < 0x20) this.fail('in string literal');
      if (c !== 0x5c) {
        this.i++;
        continue;
      }
      out += t.slice(chunkStart, this.i);
      this.i++;
      const e = t[this.i];
      const simple: Record<string, string> = {
        '"': '"',
        '\\': '\\',
        '/': '/',
        b: '\b',
        f: '\f',
        n: '\n',
        r: '\r',
        t: '\t',
      };
      if (e !== undefined && simple[e] !== undefined) {
        out += simple[e];
        this.i++;
      } else if (e === 'u') {
        this.i++;
        for (let k = 0; k < 4; k++) {
          if (!isHex(t.charCodeAt(this.i + k))) this.fail('in \\u hexadecimal character escape', this.i + k);
        }
        out += String.fromCharCode(Number.parseInt(t.slice(this.i, this.i + 4), 16));
        this.i += 4;
      } else {
        this.fail('in string escape code');
      }
      chunkStart = this.i;
    }
  }
}

/** `depthLimit`: nesting that Go accepts but Kiln's budget does not (limits.ts maxNestingDepth) is reported. */
export function parseJson(text: string, depthLimit = MAX_NESTING_DEPTH): JsonParseResult {
  return new Parser(text, depthLimit).parse();
}

/**
 * Go's SyntaxError.Offset (bytes read, including the bad one) and the line/column Packer prints from it.
 * Packer's column counts from 0 on line 1 and from 1 on later lines, so it is one more than the real
 * column after the first line; we print Packer's numbers in the message and keep the real position apart.
 */
export function packerErrorLocation(
  text: string,
  error: JsonSyntaxError,
): { offset: number; line: number; column: number } {
  const endIndex = error.message === 'unexpected end of JSON input' ? text.length : error.index + 1;
  const prefix = Buffer.from(text.slice(0, endIndex), 'utf8');
  let line = 1;
  let column = 0;
  for (const b of prefix) {
    if (b === 0x0a) {
      line++;
      column = 1;
    } else {
      column++;
    }
  }
  return { offset: prefix.length, line, column };
}
