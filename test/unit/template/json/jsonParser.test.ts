import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_NESTING_DEPTH, packerErrorLocation, parseJson } from '../../../../core/frontends/json/index.ts';

function syntaxError(text: string) {
  const r = parseJson(text);
  if (r.ok) throw new Error('expected a syntax error');
  return r.error;
}

describe('parseJson: Go encoding/json messages', () => {
  it.each([
    ['*', "invalid character '*' looking for beginning of value", 0],
    ['{"a":1 *', "invalid character '*' after object key:value pair", 7],
    ['{"a" 1}', "invalid character '1' after object key", 5],
    ['{1:2}', "invalid character '1' looking for beginning of object key string", 1],
    ['{"a":1,}', "invalid character '}' looking for beginning of object key string", 7],
    ['[1 2]', "invalid character '2' after array element", 3],
    ['[1,]', "invalid character ']' looking for beginning of value", 3],
    ['{} x', "invalid character 'x' after top-level value", 3],
    ['"a\tb"', "invalid character '\\t' in string literal", 2],
    ['"\\q"', "invalid character 'q' in string escape code", 2],
    ['"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape", 5],
    ['-x', "invalid character 'x' in numeric literal", 1],
    ['1.x', "invalid character 'x' after decimal point in numeric literal", 2],
    ['1ex', "invalid character 'x' in exponent of numeric literal", 2],
    ['01', "invalid character '1' after top-level value", 1],
    ['tru', 'unexpected end of JSON input', 3],
    ['trux', "invalid character 'x' in literal true (expecting 'e')", 3],
    ["{'a':1}", "invalid character '\\'' looking for beginning of object key string", 1],
    ['{"a":', 'unexpected end of JSON input', 5],
    ['', 'unexpected end of JSON input', 0],
  ])('%j', (text, message, index) => {
    const e = syntaxError(text);
    expect(e.message).toBe(message);
    expect(e.index).toBe(index);
  });

  it('gives Packer line, column and byte offset (column one past on later lines, as Packer prints it)', () => {
    const text = '{\n  "a": 1\n  ]';
    const e = syntaxError(text);
    expect(packerErrorLocation(text, e)).toEqual({ offset: 14, line: 3, column: 4 });
    const first = '{"builders":[{"type":"test"}]*';
    expect(packerErrorLocation(first, syntaxError(first))).toEqual({ offset: 30, line: 1, column: 30 });
  });

  it('counts UTF-8 bytes in offsets', () => {
    const text = '{"a":"é" x}';
    expect(packerErrorLocation(text, syntaxError(text)).offset).toBe(11);
  });
});

describe('parseJson: values and positions', () => {
  it('keeps key and value spans', () => {
    const r = parseJson('{ "k" : [1, "two", true, null, {"x": -1.5e2}] }');
    expect(r.ok).toBe(true);
    if (!r.ok || r.value.kind !== 'object') return;
    const [entry] = r.value.entries;
    expect(entry?.key).toBe('k');
    expect(entry?.keySpan).toEqual({ start: 2, end: 5 });
    expect(entry?.value.kind).toBe('array');
    if (entry?.value.kind !== 'array') return;
    expect(entry.value.items.map((i) => i.kind)).toEqual(['number', 'string', 'bool', 'null', 'object']);
    const last = entry.value.items[4];
    if (last?.kind !== 'object') return;
    expect(last.entries[0]?.value).toMatchObject({ kind: 'number', value: -150, raw: '-1.5e2' });
  });

  it('decodes escapes', () => {
    const r = parseJson('"a\\n\\u00e9\\"\\/"');
    expect(r.ok && r.value.kind === 'string' && r.value.value).toBe('a\né"/');
  });

  it('reports the first duplicate key in document order, at its second occurrence', () => {
    const r = parseJson('{"a":{"b":1,"b":2},"a":3}');
    expect(r.ok && r.duplicate).toEqual({ kind: 'duplicate', key: 'b', keySpan: { start: 12, end: 15 } });
  });
});

describe('parseJson: robustness', () => {
  it('rejects 100k levels of nesting without overflowing the stack', () => {
    const text = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const e = syntaxError(text);
    expect(e.message).toBe('exceeded max depth');
    expect(e.index).toBe(MAX_NESTING_DEPTH);
  });

  it('accepts nesting up to the limit', () => {
    const depth = MAX_NESTING_DEPTH;
    const r = parseJson(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
    expect(r.ok).toBe(true);
  });

  it('parses a 10 MB document', () => {
    const item = `{"type":"shell","inline":["${'x'.repeat(200)}"]}`;
    const count = Math.ceil((10 * 1024 * 1024) / item.length);
    const text = `{"provisioners":[${Array.from({ length: count }, () => item).join(',')}]}`;
    const r = parseJson(text);
    expect(r.ok).toBe(true);
  });

  it('never throws: any input gives a value or a syntax error', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        const r = parseJson(s);
        if (r.ok) expect(() => JSON.parse(s)).not.toThrow();
        else expect(r.error.message.length).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with JSON.parse on valid documents', () => {
    fc.assert(
      fc.property(fc.json(), (s) => {
        expect(parseJson(s).ok).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
