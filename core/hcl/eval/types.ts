/**
 * HCL type constraints (`string`, `list(string)`, `object({ a = optional(number, 1) })`) parsed from the AST, and
 * conversion of values to them with HCL's automatic conversions (input strings become numbers, bools, ...).
 */
import type { SourceRange } from '../../template/diagnostics.ts';
import { UnknownValue } from '../../template/model.ts';
import type { Expr } from '../syntax/ast.ts';
import { formatNumber, isObject, type ObjectValue, type Value } from './values.ts';

export type TypeSpec =
  | { readonly kind: 'string' | 'number' | 'bool' | 'any' }
  | { readonly kind: 'list' | 'set' | 'map'; readonly elem: TypeSpec }
  | { readonly kind: 'tuple'; readonly elems: readonly TypeSpec[] }
  | {
      readonly kind: 'object';
      readonly attrs: Readonly<
        Record<string, { readonly type: TypeSpec; readonly optional: boolean; readonly default?: Value }>
      >;
    };

export type TypeResult = { ok: true; type: TypeSpec } | { ok: false; message: string; range: SourceRange };

/** Parses a type expression; `evalDefault` evaluates `optional(type, default)` defaults. */
export function parseType(expr: Expr, evalDefault: (e: Expr) => Value = () => null): TypeResult {
  const bad = (message: string, range = expr.range): TypeResult => ({ ok: false, message, range });
  if (expr.kind === 'variable') {
    if (['string', 'number', 'bool', 'any'].includes(expr.name)) {
      return { ok: true, type: { kind: expr.name as 'string' } };
    }
    if (['list', 'set', 'map'].includes(expr.name)) {
      return bad(`The ${expr.name} type constructor requires one argument specifying the element type.`);
    }
    return bad(`The keyword "${expr.name}" is not a valid type specification.`);
  }
  if (expr.kind === 'call') {
    const name = expr.name;
    if (name === 'list' || name === 'set' || name === 'map') {
      if (expr.args.length !== 1)
        return bad(`The ${name} type constructor requires one argument specifying the element type.`);
      const elem = parseType(expr.args[0] as Expr, evalDefault);
      return elem.ok ? { ok: true, type: { kind: name, elem: elem.type } } : elem;
    }
    if (name === 'tuple') {
      const arg = expr.args[0];
      if (expr.args.length !== 1 || arg?.kind !== 'tuple')
        return bad('The tuple type constructor requires one argument specifying the element types as a list.');
      const elems: TypeSpec[] = [];
      for (const e of arg.items) {
        const t = parseType(e, evalDefault);
        if (!t.ok) return t;
        elems.push(t.type);
      }
      return { ok: true, type: { kind: 'tuple', elems } };
    }
    if (name === 'object') {
      const arg = expr.args[0];
      if (expr.args.length !== 1 || arg?.kind !== 'object')
        return bad('The object type constructor requires one argument specifying the attribute types as a map.');
      const attrs: Record<string, { type: TypeSpec; optional: boolean; default?: Value }> = {};
      for (const item of arg.items) {
        const key = item.bareKey ?? (item.key.kind === 'literal' ? String(item.key.value) : undefined);
        if (key === undefined) return bad('Object constructor map keys must be attribute names.', item.key.range);
        let valueExpr = item.value;
        let optional = false;
        let def: Value | undefined;
        if (valueExpr.kind === 'call' && valueExpr.name === 'optional') {
          optional = true;
          if (valueExpr.args.length < 1 || valueExpr.args.length > 2)
            return bad('Optional attribute modifier expects one or two arguments.', valueExpr.range);
          if (valueExpr.args[1]) def = evalDefault(valueExpr.args[1]);
          valueExpr = valueExpr.args[0] as Expr;
        }
        const t = parseType(valueExpr, evalDefault);
        if (!t.ok) return t;
        attrs[key] = { type: t.type, optional, ...(def !== undefined ? { default: def } : {}) };
      }
      return { ok: true, type: { kind: 'object', attrs } };
    }
    if (name === 'optional') return bad('Keyword "optional" is valid only as a modifier for object type attributes.');
    return bad(`Keyword "${name}" is not a valid type constructor.`);
  }
  return bad(
    'A type specification is either a primitive type keyword (bool, number, string) or a complex type constructor call, like list(string).',
  );
}

export function typeString(t: TypeSpec): string {
  switch (t.kind) {
    case 'list':
    case 'set':
    case 'map':
      return `${t.kind}(${typeString(t.elem)})`;
    case 'tuple':
      return `tuple([${t.elems.map(typeString).join(', ')}])`;
    case 'object':
      return `object({${Object.entries(t.attrs)
        .map(([k, a]) => `${k}=${a.optional ? `optional(${typeString(a.type)})` : typeString(a.type)}`)
        .join(', ')}})`;
    default:
      return t.kind;
  }
}

export type ConvertResult = { ok: true; value: Value } | { ok: false; message: string };

const ok = (value: Value): ConvertResult => ({ ok: true, value });

/** cty's `FriendlyNameForConstraint`: `list of string`, `map of number`, `object`, `tuple`. */
export function friendlyName(t: TypeSpec): string {
  switch (t.kind) {
    case 'list':
    case 'set':
    case 'map':
      return `${t.kind} of ${friendlyName(t.elem)}`;
    case 'any':
      return 'any type';
    default:
      return t.kind;
  }
}

/** cty's number syntax for strings (`big.ParseFloat` base 10): no surrounding spaces, no hex. */
export const CTY_NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Conversion to a type constraint by cty's rules (go-cty 1.13, the version Packer pins), with its messages
 * (no trailing period): a value of the wrong kind is `<type> required`, prefixed with the path of the element
 * or attribute where the kinds differ (`element 0: string required`); a string that does not parse says
 * `a number is required` / `a bool is required` without a path. Number ↔ string, bool ↔ string ("true",
 * "false", "1", "0"), tuple → list/set, object → map and objects to object types convert; bool ↔ number do not.
 */
export function convertValue(v: Value, t: TypeSpec, path = ''): ConvertResult {
  const bad = (m: string): ConvertResult => ({ ok: false, message: `${path ? `${path}: ` : ''}${m}` });
  const badValue = (m: string): ConvertResult => ({ ok: false, message: m });
  if (v instanceof UnknownValue || t.kind === 'any') return ok(v);
  if (v === null) return ok(null);
  switch (t.kind) {
    case 'string':
      if (typeof v === 'string') return ok(v);
      if (typeof v === 'number') return ok(formatNumber(v));
      if (typeof v === 'boolean') return ok(v ? 'true' : 'false');
      return bad('string required');
    case 'number':
      if (typeof v === 'number') return ok(v);
      if (typeof v === 'string') return CTY_NUMBER.test(v) ? ok(Number(v)) : badValue('a number is required');
      return bad('number required');
    case 'bool':
      if (typeof v === 'boolean') return ok(v);
      if (typeof v === 'string') {
        if (v === 'true' || v === '1') return ok(true);
        if (v === 'false' || v === '0') return ok(false);
        const lower = v.toLowerCase();
        return badValue(
          lower === 'true' || lower === 'false'
            ? `a bool is required; to convert from string, use lowercase "${lower}"`
            : 'a bool is required',
        );
      }
      return bad('bool required');
    case 'list':
    case 'set': {
      if (!Array.isArray(v)) return bad(`${friendlyName(t)} required`);
      const out: Value[] = [];
      for (let i = 0; i < v.length; i++) {
        const r = convertValue(v[i] as Value, t.elem, path ? `${path}: element ${i}` : `element ${i}`);
        if (!r.ok) return r;
        out.push(r.value);
      }
      return ok(out);
    }
    case 'map': {
      if (!isObject(v)) return bad(`${friendlyName(t)} required`);
      const out: ObjectValue = {};
      for (const [k, x] of Object.entries(v)) {
        const r = convertValue(x, t.elem, path ? `${path}: element "${k}"` : `element "${k}"`);
        if (!r.ok) return r;
        out[k] = r.value;
      }
      return ok(out);
    }
    case 'tuple': {
      if (!Array.isArray(v) || v.length !== t.elems.length) return bad('tuple required');
      const out: Value[] = [];
      for (let i = 0; i < v.length; i++) {
        const r = convertValue(v[i] as Value, t.elems[i] as TypeSpec, path ? `${path}: element ${i}` : `element ${i}`);
        if (!r.ok) return r;
        out.push(r.value);
      }
      return ok(out);
    }
    case 'object': {
      if (!isObject(v)) return bad('object required');
      const out: ObjectValue = {};
      for (const [k, a] of Object.entries(t.attrs)) {
        if (!(k in v) || v[k] === null) {
          if (!a.optional && !(k in v)) return bad(`attribute "${k}" is required`);
          out[k] = a.default !== undefined ? a.default : null;
          continue;
        }
        const r = convertValue(v[k] as Value, a.type, path ? `${path}: attribute "${k}"` : `attribute "${k}"`);
        if (!r.ok) return r;
        out[k] = r.value;
      }
      return ok(out);
    }
  }
}
