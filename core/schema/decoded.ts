/**
 * Reading decoded option values (the plan's typed configuration, `ConfigOf` a shape). The plan already holds
 * typed values; what is left is a value Kiln leaves for run time (a string, see `RunTime`) or `null` as written,
 * which a stage cannot use: these read it as absent. A list left for run time is split by the decode rule.
 */
import { goStringList } from './decode.ts';
import type { Decoded } from './fields.ts';

/** A number, boolean, block or map option when known now; a run-time value or null reads as absent. */
export function known<T extends number | boolean | object>(value: Decoded<T> | undefined): T | undefined {
  return value === undefined || value === null || typeof value === 'string' ? undefined : value;
}

/**
 * A `[]string` option's items: null items are dropped (no value), and a list still held as one run-time string is
 * split as the decoder splits (`goStringList`: commas, no trimming, `""` is empty).
 */
export function items(value: Decoded<readonly (string | null)[]> | undefined): string[] {
  if (value === undefined || value === null) return [];
  const list = typeof value === 'string' ? (goStringList(value, () => false) as string[]) : value;
  return list.filter((item): item is string => item !== null);
}
