/**
 * Decoding of JSON nodes into the Go types of Packer's template structs, with mapstructure's messages.
 * "Weak" follows mapstructure's WeaklyTypedInput (numbers and bools become strings, a lone string becomes a
 * one-element list), which Packer uses for builders and provisioners but not for post-processors.
 */
import { goJsonType, type JsonNode } from './jsonAst.ts';

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string; node: JsonNode };

function kindName(n: JsonNode): string {
  // reflect.Kind names in "source data must be an array or slice, got <kind>".
  switch (n.kind) {
    case 'object':
      return 'map';
    case 'array':
      return 'slice';
    case 'number':
      return 'float64';
    case 'null':
      return 'invalid';
    default:
      return n.kind;
  }
}

export function unconvertible(name: string, expected: string, n: JsonNode): string {
  const shown = n.kind === 'string' || n.kind === 'number' ? `, value: '${n.kind === 'string' ? n.value : n.raw}'` : '';
  return `'${name}' expected type '${expected}', got unconvertible type '${goJsonType(n)}'${shown}`;
}

export function decodeString(name: string, n: JsonNode, weak: boolean): Decoded<string> {
  if (n.kind === 'string') return { ok: true, value: n.value };
  if (n.kind === 'null') return { ok: true, value: '' };
  if (weak && n.kind === 'number') return { ok: true, value: String(n.value) };
  if (weak && n.kind === 'bool') return { ok: true, value: n.value ? '1' : '0' };
  return { ok: false, error: unconvertible(name, 'string', n), node: n };
}

export function decodeStringList(name: string, n: JsonNode, weak: boolean): Decoded<string[]> {
  if (n.kind === 'null') return { ok: true, value: [] };
  if (n.kind !== 'array') {
    if (weak && n.kind !== 'object') {
      const one = decodeString(name, n, weak);
      return one.ok ? { ok: true, value: one.value === '' && n.kind === 'string' ? [] : [one.value] } : one;
    }
    return { ok: false, error: `'${name}': source data must be an array or slice, got ${kindName(n)}`, node: n };
  }
  const out: string[] = [];
  for (const [i, item] of n.items.entries()) {
    const s = decodeString(`${name}[${i}]`, item, weak);
    if (!s.ok) return s;
    out.push(s.value);
  }
  return { ok: true, value: out };
}

export function decodeArray(name: string, n: JsonNode): Decoded<readonly JsonNode[]> {
  if (n.kind === 'null') return { ok: true, value: [] };
  if (n.kind === 'array') return { ok: true, value: n.items };
  return { ok: false, error: `'${name}': source data must be an array or slice, got ${kindName(n)}`, node: n };
}

export function decodeBool(name: string, n: JsonNode): Decoded<boolean | undefined> {
  if (n.kind === 'bool') return { ok: true, value: n.value };
  if (n.kind === 'null') return { ok: true, value: undefined };
  return { ok: false, error: unconvertible(name, 'bool', n), node: n };
}

const DURATION_RE = /^[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;

/** Go's time.ParseDuration acceptance (value kept as written); weak numbers are nanoseconds. */
export function decodeDuration(name: string, n: JsonNode): Decoded<string | undefined> {
  if (n.kind === 'null') return { ok: true, value: undefined };
  if (n.kind === 'number') return { ok: true, value: `${n.raw}ns` };
  if (n.kind !== 'string') return { ok: false, error: unconvertible(name, 'time.Duration', n), node: n };
  if (n.value === '' || n.value === '0' || DURATION_RE.test(n.value)) {
    return { ok: true, value: n.value === '' ? undefined : n.value };
  }
  return { ok: false, error: `time: invalid duration "${n.value}"`, node: n };
}
