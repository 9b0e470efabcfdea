/** Values flowing through a `{{ }}` pipeline while it is evaluated. */

/** The action depends on run-time context (`.Path`, `build`): its text is kept as written. */
export class Deferred {
  static readonly instance = new Deferred();
  private constructor() {}
}

/** The value is only known at run time (a secret while offline); `sources` say what it waits for. */
export class Unknown {
  constructor(readonly sources: readonly string[]) {}
}

export type Value = string | number | boolean | null | Deferred | Unknown | object;

/** A function failed: rendered as Go does, `error calling <name>: <message>`. */
export class FuncError extends Error {}

export function goTypeName(v: Value): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (v === null) return 'nil';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

/** Text of a value as Go's template printer writes it (fmt's %v for the types Packer templates produce). */
export function printValue(v: Value): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return '<no value>';
  return JSON.stringify(v);
}

/** Go truthiness for `not`, `and`, `or`: zero values are false. */
export function truthy(v: Value): boolean {
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'boolean') return v;
  if (v === null) return false;
  if (Array.isArray(v)) return v.length > 0;
  return Object.keys(v).length > 0;
}
