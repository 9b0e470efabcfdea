/** A small JSON parser that keeps source offsets, for HCL's JSON syntax (`*.pkr.json`, `*.pkrvars.json`). */
export type JsonNode =
  | {
      kind: 'object';
      entries: { key: string; keyStart: number; keyEnd: number; value: JsonNode }[];
      start: number;
      end: number;
    }
  | { kind: 'array'; items: JsonNode[]; start: number; end: number }
  | { kind: 'scalar'; value: string | number | boolean | null; start: number; end: number };

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Nesting past the caller's limit (limits.ts maxNestingDepth): not a syntax error, a budget stop. */
export class JsonTooDeepError extends JsonSyntaxError {}

export function parseJsonWithPositions(text: string, maxDepth = 200): JsonNode {
  let i = 0;
  /** Containers enclosing the value being read, plus the one it opens. */
  const open = (depth: number) => {
    if (depth + 1 > maxDepth) throw new JsonTooDeepError(`Nesting deeper than ${maxDepth} levels`, i);
  };
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i] as string)) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    let out = '';
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') {
        i += text[i + 1] === 'u' ? 6 : 2;
      } else i++;
    }
    if (i >= text.length) throw new JsonSyntaxError('Unterminated string', start);
    i++;
    try {
      out = JSON.parse(text.slice(start, i)) as string;
    } catch {
      throw new JsonSyntaxError('Invalid string escape', start);
    }
    return out;
  };
  const value = (depth: number): JsonNode => {
    ws();
    const start = i;
    const ch = text[i];
    if (ch === '{') {
      open(depth);
      i++;
      const entries: { key: string; keyStart: number; keyEnd: number; value: JsonNode }[] = [];
      ws();
      if (text[i] === '}') {
        i++;
        return { kind: 'object', entries, start, end: i };
      }
      for (;;) {
        ws();
        if (text[i] !== '"') throw new JsonSyntaxError('Expected a property name', i);
        const keyStart = i;
        const key = str();
        const keyEnd = i;
        ws();
        if (text[i] !== ':') throw new JsonSyntaxError('Expected ":"', i);
        i++;
        entries.push({ key, keyStart, keyEnd, value: value(depth + 1) });
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return { kind: 'object', entries, start, end: i };
        }
        throw new JsonSyntaxError('Expected "," or "}"', i);
      }
    }
    if (ch === '[') {
      open(depth);
      i++;
      const items: JsonNode[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return { kind: 'array', items, start, end: i };
      }
      for (;;) {
        items.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return { kind: 'array', items, start, end: i };
        }
        throw new JsonSyntaxError('Expected "," or "]"', i);
      }
    }
    if (ch === '"') return { kind: 'scalar', value: str(), start, end: i };
    const m = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?)/.exec(text.slice(i, i + 400));
    if (!m) throw new JsonSyntaxError('Invalid JSON value', i);
    i += m[0].length;
    const v = m[0] === 'true' ? true : m[0] === 'false' ? false : m[0] === 'null' ? null : Number(m[0]);
    return { kind: 'scalar', value: v, start, end: i };
  };
  const root = value(0);
  ws();
  if (i < text.length) throw new JsonSyntaxError('Extra data after the JSON value', i);
  return root;
}
