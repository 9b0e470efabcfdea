/** Collection functions: lists/tuples/sets are arrays, maps/objects are plain objects (keys iterate sorted). */
import { currentBudget } from '../../template/limits.ts';
import { UnknownValue } from '../../template/model.ts';
import type { CallInfo } from '../eval/context.ts';
import {
  deepEqual,
  distinctValues,
  fail,
  isObject,
  type ObjectValue,
  sortedEntries,
  toBool,
  toNum,
  toStr,
  typeName,
  type Value,
} from '../eval/values.ts';
import { argError, type FunctionTable, fixed, int, list, num, obj, str, variadic } from './helpers.ts';

/** cty's artificial limit on `range` (Packer's behaviour, and a guard against huge lists). */
const RANGE_MAX = 1024;

function lengthOf(v: Value, call: CallInfo): number {
  if (typeof v === 'string') return [...v].length;
  if (Array.isArray(v)) return v.length;
  if (isObject(v)) return Object.keys(v).length;
  return argError(call, 0, `argument must be a string, a collection type, or a structural type, got ${typeName(v)}.`);
}

function flatten(v: Value[], depth = 0): Value[] {
  if (depth > 100) return v;
  return v.flatMap((x) => (Array.isArray(x) ? flatten(x, depth + 1) : [x]));
}

function sortValues(items: Value[], call: CallInfo): Value[] {
  const strs = items.map((x) => {
    if (x === null) argError(call, 0, 'given list element cannot be null.');
    return toStr(x, call.range);
  });
  return strs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function setArgs(a: Value[], call: CallInfo): Value[][] {
  return a.map((_, i) => distinctValues(list(a, i, call)));
}

function product(sets: Value[][], call: CallInfo): Value[][] {
  // The size is known before building anything: refuse a product past the budget without allocating it.
  const size = sets.reduce((n, s) => n * s.length, 1);
  currentBudget().collection(size, 'The result of setproduct()', call.range);
  let acc: Value[][] = [[]];
  for (const s of sets) {
    const next: Value[][] = [];
    for (const prefix of acc) for (const x of s) next.push([...prefix, x]);
    acc = next;
  }
  return acc;
}

export const collectionFunctions: FunctionTable = {
  alltrue: fixed(1, (a, c) => list(a, 0, c).every((x) => toBool(x, c.argRanges[0]))),
  anytrue: fixed(1, (a, c) => list(a, 0, c).some((x) => toBool(x, c.argRanges[0]))),
  chunklist: fixed(2, (a, c) => {
    const items = list(a, 0, c);
    const size = int(a, 1, c);
    if (size < 0) argError(c, 1, 'the size argument must be positive.');
    if (size === 0) return [items];
    const out: Value[] = [];
    for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
    return out;
  }),
  coalesce: variadic(1, (a, c) => {
    for (const v of a) if (v !== null && v !== '') return v;
    return fail(
      'Error in function call',
      'Call to function "coalesce" failed: no non-null, non-empty-string arguments.',
      c.range,
    );
  }),
  coalescelist: variadic(1, (a, c) => {
    for (let i = 0; i < a.length; i++) {
      const v = list(a, i, c);
      if (v.length > 0) return v;
    }
    return [];
  }),
  compact: fixed(1, (a, c) => list(a, 0, c).filter((x) => x !== null && x !== '')),
  concat: variadic(1, (a, c) => a.flatMap((_, i) => list(a, i, c))),
  contains: fixed(2, (a, c) => list(a, 0, c).some((x) => deepEqual(x, a[1] as Value))),
  distinct: fixed(1, (a, c) => distinctValues(list(a, 0, c))),
  element: fixed(2, (a, c) => {
    const items = list(a, 0, c);
    const i = int(a, 1, c);
    if (items.length === 0) argError(c, 0, 'cannot use element function with an empty list.');
    if (i < 0) argError(c, 1, 'cannot use element function with a negative index.');
    return items[i % items.length] as Value;
  }),
  flatten: fixed(1, (a, c) => flatten(list(a, 0, c))),
  index: fixed(2, (a, c) => {
    const i = list(a, 0, c).findIndex((x) => deepEqual(x, a[1] as Value));
    if (i < 0) fail('Error in function call', 'Call to function "index" failed: item not found.', c.range);
    return i;
  }),
  keys: fixed(1, (a, c) => Object.keys(obj(a, 0, c)).sort()),
  values: fixed(1, (a, c) => sortedEntries(obj(a, 0, c)).map(([, v]) => v)),
  length: fixed(1, (a, c) => lengthOf(a[0] as Value, c)),
  lookup: {
    min: 2,
    max: 3,
    impl: (a, c) => {
      const m = obj(a, 0, c);
      const k = str(a, 1, c);
      if (k in m) return m[k] as Value;
      if (a.length === 3) return a[2] as Value;
      return fail(
        'Error in function call',
        `Call to function "lookup" failed: lookup failed to find key "${k}".`,
        c.range,
      );
    },
  },
  merge: {
    min: 0,
    max: 'variadic',
    impl: (a, c) => {
      const out: ObjectValue = {};
      a.forEach((v, i) => {
        if (v === null) return;
        Object.assign(out, obj(a, i, c));
      });
      return out;
    },
  },
  one: fixed(1, (a, c) => {
    const items = list(a, 0, c);
    if (items.length > 1) argError(c, 0, 'must be a list, set, or tuple value with either zero or one elements.');
    return items[0] ?? null;
  }),
  range: {
    min: 1,
    max: 3,
    impl: (a, c) => {
      const nums = a.map((_, i) => num(a, i, c));
      const [start, limit, step] =
        nums.length === 1
          ? [0, nums[0] as number, 1]
          : [nums[0] as number, nums[1] as number, nums[2] ?? ((nums[1] as number) >= (nums[0] as number) ? 1 : -1)];
      if (step === 0)
        fail('Error in function call', 'Call to function "range" failed: step must not be zero.', c.range);
      if ((step > 0 && start > limit) || (step < 0 && start < limit)) {
        if (nums.length === 3)
          fail(
            'Error in function call',
            'Call to function "range" failed: step must have the same sign as limit - start.',
            c.range,
          );
        return [];
      }
      const count = Math.ceil((limit - start) / step);
      if (count > RANGE_MAX)
        fail(
          'Error in function call',
          'Call to function "range" failed: more than 1024 values were generated; either decrease the difference between start and end or use a smaller step.',
          c.range,
        );
      return Array.from({ length: Math.max(0, count) }, (_, i) => start + i * step);
    },
  },
  reverse: fixed(1, (a, c) => [...list(a, 0, c)].reverse()),
  setintersection: variadic(1, (a, c) => {
    const sets = setArgs(a, c);
    return (sets[0] as Value[]).filter((x) => sets.every((s) => s.some((y) => deepEqual(x, y))));
  }),
  setproduct: variadic(1, (a, c) =>
    product(
      a.map((_, i) => list(a, i, c)),
      c,
    ),
  ),
  setsubtract: fixed(2, (a, c) => {
    const [x, y] = setArgs(a, c) as [Value[], Value[]];
    return x.filter((v) => !y.some((w) => deepEqual(v, w)));
  }),
  setunion: variadic(1, (a, c) => distinctValues(setArgs(a, c).flat())),
  slice: fixed(3, (a, c) => {
    const items = list(a, 0, c);
    const from = int(a, 1, c);
    const to = int(a, 2, c);
    if (from < 0 || from > items.length) argError(c, 1, 'the from index must be between 0 and the length of the list.');
    if (to < from || to > items.length)
      argError(c, 2, 'the to index must be between the from index and the length of the list.');
    return items.slice(from, to);
  }),
  sort: fixed(1, (a, c) => sortValues(list(a, 0, c), c)),
  sum: fixed(1, (a, c) => {
    const items = list(a, 0, c);
    if (items.length === 0) argError(c, 0, 'cannot sum an empty list.');
    return items.reduce<number>((acc, x) => acc + toNum(x, c.argRanges[0]), 0);
  }),
  transpose: fixed(1, (a, c) => {
    const out: Record<string, string[]> = {};
    for (const [k, v] of sortedEntries(obj(a, 0, c))) {
      if (!Array.isArray(v)) argError(c, 0, 'input must be a map of lists of strings.');
      for (const x of v) {
        const key = toStr(x, c.range);
        out[key] ??= [];
        out[key].push(k);
      }
    }
    return out;
  }),
  zipmap: fixed(2, (a, c) => {
    const ks = list(a, 0, c);
    const vs = list(a, 1, c);
    if (ks.length !== vs.length)
      argError(c, 1, `number of keys (${ks.length}) does not match number of values (${vs.length}).`);
    return Object.fromEntries(ks.map((k, i) => [toStr(k, c.argRanges[0]), vs[i] as Value]));
  }),
};

/** `length` of a list holding unknowns is still known, so it accepts unknown arguments. */
collectionFunctions.length = {
  min: 1,
  acceptsUnknown: true,
  impl: (a, c) => {
    const v = a[0] as Value;
    if (v instanceof UnknownValue) return v;
    return lengthOf(v, c);
  },
};
