/** Argument coercion helpers shared by the function families. */
import type { CallInfo, FunctionDef } from '../eval/context.ts';
import { fail, type ObjectValue, toBool, toList, toNum, toObject, toStr, type Value } from '../eval/values.ts';

export type FunctionTable = Record<string, FunctionDef>;

export function str(args: Value[], i: number, call: CallInfo): string {
  const v = args[i] as Value;
  if (v === null)
    fail(
      'Invalid function argument',
      `Invalid value for argument ${i + 1}: argument must not be null.`,
      call.argRanges[i],
    );
  return toStr(v, call.argRanges[i]);
}

export function num(args: Value[], i: number, call: CallInfo): number {
  return toNum(args[i] as Value, call.argRanges[i]);
}

export function int(args: Value[], i: number, call: CallInfo): number {
  const n = num(args, i, call);
  if (!Number.isInteger(n))
    fail(
      'Invalid function argument',
      `Invalid value for argument ${i + 1}: a whole number is required.`,
      call.argRanges[i],
    );
  return n;
}

export function bool(args: Value[], i: number, call: CallInfo): boolean {
  return toBool(args[i] as Value, call.argRanges[i]);
}

export function list(args: Value[], i: number, call: CallInfo): Value[] {
  return toList(args[i] as Value, call.argRanges[i]);
}

export function obj(args: Value[], i: number, call: CallInfo): ObjectValue {
  return toObject(args[i] as Value, call.argRanges[i]);
}

export function argError(call: CallInfo, i: number, message: string): never {
  return fail(
    'Invalid function argument',
    `Invalid value for argument ${i + 1}: ${message}`,
    call.argRanges[i] ?? call.range,
  );
}

/** Defines a function with a fixed number of arguments. */
export function fixed(n: number, impl: FunctionDef['impl']): FunctionDef {
  return { min: n, impl };
}

export function variadic(min: number, impl: FunctionDef['impl']): FunctionDef {
  return { min, max: 'variadic', impl };
}
