/**
 * HCL values as plain JSON data plus UnknownValue (model.ts). Lists, tuples and sets are arrays; maps and objects
 * are plain objects. Helpers here do HCL's automatic conversions (string <-> number <-> bool).
 */
import { type Diagnostic, error, type SourceRange } from '../../template/diagnostics.ts';
import { UnknownValue } from '../../template/model.ts';

export type Value = string | number | boolean | null | UnknownValue | Value[] | { [key: string]: Value };
export type ObjectValue = { [key: string]: Value };

/** Thrown inside evaluation only; every public entry point turns it into a Diagnostic. */
export class HclEvalError extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.summary);
  }
}

export function fail(summary: string, detail: string, range?: SourceRange): never {
  throw new HclEvalError(error(summary, detail, range));
}

export function isObject(v: Value | undefined): v is ObjectValue {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof UnknownValue);
}

export function isUnknownValue(v: unknown): v is UnknownValue {
  return v instanceof UnknownValue;
}

/** True when the value or anything inside it is unknown. */
export function containsUnknown(v: Value, depth = 0): boolean {
  if (v instanceof UnknownValue) return true;
  if (depth > 200) return false;
  if (Array.isArray(v)) return v.some((x) => containsUnknown(x, depth + 1));
  if (isObject(v)) return Object.values(v).some((x) => containsUnknown(x, depth + 1));
  return false;
}

export function firstUnknown(values: readonly Value[]): UnknownValue | undefined {
  for (const v of values) {
    if (v instanceof UnknownValue) return v;
    if ((Array.isArray(v) || isObject(v)) && containsUnknown(v)) return findUnknown(v);
  }
  return undefined;
}

function findUnknown(v: Value): UnknownValue | undefined {
  if (v instanceof UnknownValue) return v;
  const items = Array.isArray(v) ? v : isObject(v) ? Object.values(v) : [];
  for (const x of items) {
    const u = findUnknown(x);
    if (u) return u;
  }
  return undefined;
}

export function typeName(v: Value): string {
  if (v === null) return 'null';
  if (v instanceof UnknownValue) return 'unknown';
  if (Array.isArray(v)) return 'tuple';
  if (typeof v === 'object') return 'object';
  return typeof v === 'boolean' ? 'bool' : typeof v;
}

export function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return n.toFixed(0);
  return String(n);
}

export function toStr(v: Value, range?: SourceRange, what = 'value'): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v === null) return fail('Invalid template interpolation value', `The ${what} is null.`, range);
  return fail(
    'Invalid template interpolation value',
    `Cannot include a ${typeName(v)} value in a string template: string required.`,
    range,
  );
}

export function toNum(v: Value, range?: SourceRange): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const t = v.trim();
    if (t !== '' && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
  }
  return fail(
    'Invalid value',
    `A number is required, got ${typeName(v)}${typeof v === 'string' ? ` "${v}"` : ''}.`,
    range,
  );
}

/** cty's string → bool conversion (go-cty 1.13, Packer's pin): "true"/"1" and "false"/"0". */
export function toBool(v: Value, range?: SourceRange): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return fail('Invalid value', `A bool is required, got ${typeName(v)}.`, range);
}

export function toList(v: Value, range?: SourceRange): Value[] {
  if (Array.isArray(v)) return v;
  return fail('Invalid value', `A list is required, got ${typeName(v)}.`, range);
}

export function toObject(v: Value, range?: SourceRange): ObjectValue {
  if (isObject(v)) return v;
  return fail('Invalid value', `A map or object is required, got ${typeName(v)}.`, range);
}

export function deepEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i] as Value));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => k in b && deepEqual(a[k] as Value, b[k] as Value));
  }
  return false;
}

/** Removes duplicates, keeping first occurrences (sets). */
export function distinctValues(items: readonly Value[]): Value[] {
  const out: Value[] = [];
  for (const x of items) if (!out.some((y) => deepEqual(x, y))) out.push(x);
  return out;
}

/** Object with keys in lexical order, as cty iterates them. */
export function sortedEntries(o: ObjectValue): [string, Value][] {
  return Object.keys(o)
    .sort()
    .map((k) => [k, o[k] as Value]);
}
