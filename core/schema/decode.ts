/**
 * mapstructure's weak decoding, as Packer configures it for every component (`WeaklyTypedInput` plus the
 * comma-splitting string → slice hook): the one set of rules by which the validator accepts a value, the plan
 * stores it typed, and the stages read it. Values known only at run time are never passed here.
 */

const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False', '']);

/** Go `strconv.ParseBool`, numbers true when non-zero, `""` false; anything else is not a boolean. */
export function goBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') return GO_TRUE.has(value) ? true : GO_FALSE.has(value) ? false : undefined;
  return undefined;
}

/** A string field: numbers print as Go prints them, booleans as `"1"`/`"0"` (mapstructure's weak rule). */
export function goString(value: unknown): unknown {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? '1' : '0';
  return value;
}

/** An int field: `""` is 0, a numeric string its value, a boolean 1/0. */
export function goInt(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') return value.trim() === '' ? 0 : Number.parseInt(value.trim(), 10);
  return value;
}

/** A float field: `""` is 0, a numeric string its value. */
export function goFloat(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') return value.trim() === '' ? 0 : Number(value);
  return value;
}

/**
 * A `[]string` field: a string is split on commas (Packer's `StringToSliceHookFunc(",")`, no trimming; `""` is
 * empty), a lone scalar is a list of one; items are decoded as strings. `keep` marks items left for run time.
 */
export function goStringList(value: unknown, keep: (item: unknown) => boolean): unknown {
  if (typeof value === 'string' && !keep(value)) return value === '' ? [] : value.split(',');
  const items = Array.isArray(value) ? value : [value];
  return items.map((item) => (item === null || keep(item) ? item : goString(item)));
}
