/**
 * HCL's conditional result type: both results are unified to one type (go-cty 1.13 `convert.UnifyUnsafe`, the
 * version Packer pins) and the chosen one converted to it, so `true ? 1 : "a"` is the string "1" and
 * `c ? [] : ["a"]` a list of strings; results with no common type are "Inconsistent conditional result types",
 * worded as hclsyntax's `describeConditionalTypeMismatch`.
 *
 * Kiln's values carry no static type, so each value's type is read from its shape: arrays are tuples, objects are
 * objects, null and unknown values are dynamic (they convert to anything). Typed collections therefore unify as
 * the tuples and objects they hold, which gives the same result for every value a template can write.
 */
import { UnknownValue } from '../../template/model.ts';
import { convertValue, type TypeSpec } from './types.ts';
import type { Value } from './values.ts';

const ANY: TypeSpec = { kind: 'any' };

/** The value's type read from its shape; `count` is told how many nodes were visited (work for the budget). */
export function typeOfValue(v: Value, count: (n: number) => void = () => {}): TypeSpec {
  count(1);
  if (v === null || v instanceof UnknownValue) return ANY;
  if (typeof v === 'string') return { kind: 'string' };
  if (typeof v === 'number') return { kind: 'number' };
  if (typeof v === 'boolean') return { kind: 'bool' };
  if (Array.isArray(v)) return { kind: 'tuple', elems: v.map((x) => typeOfValue(x, count)) };
  const attrs: Record<string, { type: TypeSpec; optional: boolean }> = {};
  for (const [k, x] of Object.entries(v)) attrs[k] = { type: typeOfValue(x, count), optional: false };
  return { kind: 'object', attrs };
}

export function typeEquals(a: TypeSpec, b: TypeSpec): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'list':
    case 'set':
    case 'map':
      return typeEquals(a.elem, (b as typeof a).elem);
    case 'tuple': {
      const be = (b as typeof a).elems;
      return a.elems.length === be.length && a.elems.every((t, i) => typeEquals(t, be[i] as TypeSpec));
    }
    case 'object': {
      const ba = (b as typeof a).attrs;
      const keys = Object.keys(a.attrs);
      return (
        keys.length === Object.keys(ba).length &&
        keys.every(
          (k) => k in ba && typeEquals((a.attrs[k] as { type: TypeSpec }).type, (ba[k] as { type: TypeSpec }).type),
        )
      );
    }
    default:
      return true;
  }
}

const isPrimitive = (t: TypeSpec) => t.kind === 'string' || t.kind === 'number' || t.kind === 'bool';

/** Whether cty has an (unsafe) conversion from `from` to `to` at the type level. */
function convertible(from: TypeSpec, to: TypeSpec): boolean {
  if (from.kind === 'any' || to.kind === 'any' || typeEquals(from, to)) return true;
  if (isPrimitive(from) && isPrimitive(to)) return from.kind === 'string' || to.kind === 'string';
  if (to.kind === 'list' || to.kind === 'set') {
    if (from.kind === 'tuple') return from.elems.every((e) => convertible(e, to.elem));
    return (from.kind === 'list' || from.kind === 'set') && convertible(from.elem, to.elem);
  }
  if (to.kind === 'map') {
    if (from.kind === 'object') return Object.values(from.attrs).every((a) => convertible(a.type, to.elem));
    return from.kind === 'map' && convertible(from.elem, to.elem);
  }
  if (to.kind === 'tuple') {
    return (
      from.kind === 'tuple' &&
      from.elems.length === to.elems.length &&
      from.elems.every((e, i) => convertible(e, to.elems[i] as TypeSpec))
    );
  }
  if (to.kind === 'object') {
    // Unsafe conversion may drop attributes; every wanted one must be there and convert.
    return (
      from.kind === 'object' &&
      Object.entries(to.attrs).every(
        ([k, a]) => k in from.attrs && convertible((from.attrs[k] as { type: TypeSpec }).type, a.type),
      )
    );
  }
  return false;
}

/** cty's preference between two types for unification: negative when `a` is more general. */
function compareTypes(a: TypeSpec, b: TypeSpec): number {
  if (a.kind === 'any' || b.kind === 'any') return a.kind === b.kind ? 0 : a.kind === 'any' ? 1 : -1;
  if (isPrimitive(a) && isPrimitive(b) && (a.kind === 'string' || b.kind === 'string')) {
    return a.kind === b.kind ? 0 : a.kind === 'string' ? -1 : 1;
  }
  return 0;
}

/** The unified type of `types`, or undefined when they have none (cty's NilType). */
export function unifyTypes(types: readonly TypeSpec[]): TypeSpec | undefined {
  if (types.length === 0) return undefined;
  const count = (k: TypeSpec['kind']) => types.filter((t) => t.kind === k).length;
  const objects = count('object');
  const tuples = count('tuple');
  const dynamic = count('any');
  if (objects > 0 && objects + dynamic === types.length) return dynamic > 0 ? ANY : unifyObjects(types);
  if (tuples > 0 && tuples + dynamic === types.length) return dynamic > 0 ? ANY : unifyTuples(types);
  if (objects > 0 && tuples > 0) return undefined;
  // Most general first (string before number and bool, anything before dynamic), stable otherwise.
  const order = types.map((t, i) => ({ t, i })).sort((x, y) => compareTypes(x.t, y.t) || x.i - y.i);
  for (const { t: want } of order) {
    if (types.every((t) => convertible(t, want))) return want;
  }
  return undefined;
}

function attrType(t: TypeSpec, name: string): TypeSpec {
  return t.kind === 'object' ? ((t.attrs[name] as { type: TypeSpec }).type ?? ANY) : ANY;
}

function unifyObjects(types: readonly TypeSpec[]): TypeSpec | undefined {
  const names = (t: TypeSpec) => (t.kind === 'object' ? Object.keys(t.attrs).sort() : []);
  const first = names(types[0] as TypeSpec);
  const sameNames = types.every((t) => {
    const n = names(t);
    return n.length === first.length && n.every((k, i) => k === first[i]);
  });
  if (!sameNames) {
    // Different attribute names: maybe a map of what all attributes unify to.
    const elem = unifyTypes(
      types.flatMap((t) => (t.kind === 'object' ? Object.values(t.attrs).map((a) => a.type) : [])),
    );
    return elem ? { kind: 'map', elem } : undefined;
  }
  const attrs: Record<string, { type: TypeSpec; optional: boolean }> = {};
  for (const name of first) {
    const t = unifyTypes(types.map((x) => attrType(x, name)));
    if (!t) return undefined;
    attrs[name] = { type: t, optional: false };
  }
  return { kind: 'object', attrs };
}

function unifyTuples(types: readonly TypeSpec[]): TypeSpec | undefined {
  const elems = (t: TypeSpec) => (t.kind === 'tuple' ? t.elems : []);
  const length = elems(types[0] as TypeSpec).length;
  if (!types.every((t) => elems(t).length === length)) {
    // Different lengths: maybe a list of what all elements unify to.
    const elem = unifyTypes(types.flatMap(elems));
    return elem ? { kind: 'list', elem } : undefined;
  }
  const out: TypeSpec[] = [];
  for (let i = 0; i < length; i++) {
    const t = unifyTypes(types.map((x) => elems(x)[i] as TypeSpec));
    if (!t) return undefined;
    out.push(t);
  }
  return { kind: 'tuple', elems: out };
}

/** cty's `FriendlyName`. */
function friendly(t: TypeSpec): string {
  switch (t.kind) {
    case 'any':
      return 'dynamic';
    case 'list':
    case 'set':
    case 'map':
      return `${t.kind} of ${friendly(t.elem)}`;
    default:
      return t.kind;
  }
}

/** hclsyntax's describeConditionalTypeMismatch, for two types that do not unify. */
export function describeMismatch(t: TypeSpec, f: TypeSpec): string {
  if (t.kind === 'object' && f.kind === 'object') {
    for (const name of Object.keys(t.attrs).sort()) {
      if (!(name in f.attrs))
        return `The 'true' value includes object attribute "${name}", which is absent in the 'false' value`;
      const ta = attrType(t, name);
      const fa = attrType(f, name);
      if (!typeEquals(ta, fa)) return `Type mismatch for object attribute "${name}": ${describeMismatch(ta, fa)}`;
    }
    for (const name of Object.keys(f.attrs).sort()) {
      if (!(name in t.attrs))
        return `The 'false' value includes object attribute "${name}", which is absent in the 'true' value`;
    }
  } else if (t.kind === 'tuple' && f.kind === 'tuple') {
    if (t.elems.length !== f.elems.length) {
      return `The 'true' tuple has length ${t.elems.length}, but the 'false' tuple has length ${f.elems.length}`;
    }
    for (let i = 0; i < t.elems.length; i++) {
      const te = t.elems[i] as TypeSpec;
      const fe = f.elems[i] as TypeSpec;
      if (!typeEquals(te, fe)) return `Type mismatch for tuple element ${i}: ${describeMismatch(te, fe)}`;
    }
  }
  const tn = friendly(t);
  const fn = friendly(f);
  if (tn === fn) {
    return "At least one deeply-nested attribute or element is not compatible across both the 'true' and the 'false' value";
  }
  return `The 'true' value is ${tn}, but the 'false' value is ${fn}`;
}

export type ConditionalResult =
  | { readonly ok: true; readonly value: Value }
  | { readonly ok: false; readonly detail: string; readonly wrongValue?: boolean };

/**
 * The conditional's result: `chosen` (one of `whenTrue`/`whenFalse`) converted to their unified type. `other`
 * undefined means that result failed to evaluate (cty's DynamicVal: nothing to unify with). `charge` is told the
 * work done, proportional to the size of both values, so a loop over large conditionals stays within the budget.
 */
export function conditionalResult(
  chosen: Value,
  other: Value | undefined,
  chosenIsTrue: boolean,
  charge: (steps: number) => void = () => {},
): ConditionalResult {
  // A literal null or an unknown (dynamic) result converts to the other's type: nothing to unify.
  if (other === undefined || other === null || chosen === null) return { ok: true, value: chosen };
  if (other instanceof UnknownValue || chosen instanceof UnknownValue) return { ok: true, value: chosen };
  if (typeof chosen !== 'object' && typeof other !== 'object' && typeof chosen === typeof other) {
    return { ok: true, value: chosen };
  }
  let nodes = 0;
  const count = (n: number) => {
    nodes += n;
  };
  const ct = typeOfValue(chosen, count);
  const ot = typeOfValue(other, count);
  charge(nodes);
  const [tt, ft] = chosenIsTrue ? [ct, ot] : [ot, ct];
  const unified = typeEquals(ct, ot) ? ct : unifyTypes([tt, ft]);
  if (!unified) {
    return {
      ok: false,
      detail: `The true and false result expressions must have consistent types. ${describeMismatch(tt, ft)}.`,
    };
  }
  const r = convertValue(chosen, unified);
  if (!r.ok) {
    return {
      ok: false,
      wrongValue: true,
      detail: `The ${chosenIsTrue ? 'true' : 'false'} result value has the wrong type: ${r.message}.`,
    };
  }
  return { ok: true, value: r.value };
}
