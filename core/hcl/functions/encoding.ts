/** Encoding functions: base64, JSON, YAML (the `yaml` package), URL, CSV. */
import { gzipSync } from 'node:zlib';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { UnknownValue } from '../../template/model.ts';
import { fail, type Value } from '../eval/values.ts';
import { argError, type FunctionTable, fixed, str } from './helpers.ts';

function fromJson(v: unknown): Value {
  return v === undefined ? null : (v as Value);
}

function toJsonCompatible(v: Value): unknown {
  if (v instanceof UnknownValue) return v.toJSON();
  return v;
}

function base64Decode(s: string): string {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0)
    throw new RangeError('the given value is not a valid base64 string');
  const buf = Buffer.from(s, 'base64');
  const text = buf.toString('utf8');
  if (Buffer.from(text, 'utf8').compare(buf) !== 0)
    throw new RangeError('the result of decoding the provided string is not valid UTF-8');
  return text;
}

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

export const encodingFunctions: FunctionTable = {
  base64encode: fixed(1, (a, c) => Buffer.from(str(a, 0, c), 'utf8').toString('base64')),
  base64decode: fixed(1, (a, c) => base64Decode(str(a, 0, c))),
  base64gzip: fixed(1, (a, c) => gzipSync(Buffer.from(str(a, 0, c), 'utf8')).toString('base64')),
  textencodebase64: fixed(2, (a, c) => {
    const enc = str(a, 1, c).toLowerCase().replace(/[-_]/g, '');
    const map: Record<string, BufferEncoding> = {
      utf8: 'utf8',
      utf16le: 'utf16le',
      latin1: 'latin1',
      iso88591: 'latin1',
      ascii: 'ascii',
    };
    const e = map[enc];
    if (!e) argError(c, 1, `"${str(a, 1, c)}" is not a supported IANA encoding name or alias.`);
    return Buffer.from(str(a, 0, c), e).toString('base64');
  }),
  textdecodebase64: fixed(2, (a, c) => {
    const enc = str(a, 1, c).toLowerCase().replace(/[-_]/g, '');
    const map: Record<string, BufferEncoding> = {
      utf8: 'utf8',
      utf16le: 'utf16le',
      latin1: 'latin1',
      iso88591: 'latin1',
      ascii: 'ascii',
    };
    const e = map[enc];
    if (!e) argError(c, 1, `"${str(a, 1, c)}" is not a supported IANA encoding name or alias.`);
    return Buffer.from(str(a, 0, c), 'base64').toString(e);
  }),
  jsonencode: fixed(1, (a) => JSON.stringify(toJsonCompatible(a[0] as Value))),
  jsondecode: fixed(1, (a, c) => {
    try {
      return fromJson(JSON.parse(str(a, 0, c)));
    } catch (e) {
      return fail(
        'Error in function call',
        `Call to function "jsondecode" failed: ${(e as Error).message}.`,
        c.argRanges[0],
      );
    }
  }),
  yamlencode: fixed(1, (a) => stringifyYaml(toJsonCompatible(a[0] as Value))),
  yamldecode: fixed(1, (a, c) => {
    try {
      return fromJson(parseYaml(str(a, 0, c), { maxAliasCount: 100 }));
    } catch (e) {
      return fail(
        'Error in function call',
        `Call to function "yamldecode" failed: ${(e as Error).message}`,
        c.argRanges[0],
      );
    }
  }),
  urlencode: fixed(1, (a, c) =>
    encodeURIComponent(str(a, 0, c))
      .replace(/%20/g, '+')
      .replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`),
  ),
  csvdecode: fixed(1, (a, c) => {
    const rows = parseCsv(str(a, 0, c));
    const header = rows[0];
    if (!header) argError(c, 0, 'missing header line');
    return rows.slice(1).map((r, i) => {
      if (r.length !== header.length)
        fail(
          'Error in function call',
          `Call to function "csvdecode" failed: record on line ${i + 2}: wrong number of fields.`,
          c.range,
        );
      return Object.fromEntries(header.map((h, j) => [h, r[j] as string]));
    });
  }),
};
