/**
 * HCL type constraints (`string`, `list(string)`, `object({ a = optional(number, 1) })`) parsed from the AST, and
 * conversion of values to them with HCL's automatic conversions (input strings become numbers, bools, ...).
 */
import type { SourceRange } from '../../diagnostics.ts';
import { UnknownValue } from '../../model.ts';
import type { Expr } from '../syntax/ast.ts';
import { formatNumber, isObject, type ObjectValue, typeName, type Value } from './values.ts';

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

export function convertValue(v: Value, t: TypeSpec, path = ''): ConvertResult {
  const at = path ? `${path}: ` : '';
  const bad = (m: string): ConvertResult => ({ ok: false, message: `${at}${m}` });
  if (v instanceof UnknownValue || t.kind === 'any') return ok(v);
  if (v === null) return ok(null);
  switch (t.kind) {
    case 'string':
      if (typeof v === 'string') return ok(v);
      if (typeof v === 'number') return ok(formatNumber(v));
      if (typeof v === 'boolean') return ok(v ? 'true' : 'false');
      return bad(`string required, but have ${typeName(v)}.`);
    case 'number':
      if (typeof v === 'number') return ok(v);
      if (typeof v === 'string' && /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(v)) return ok(Number(v));
      return bad(`a number is required${typeof v === 'string' ? `, got "${v}"` : `, got ${typeName(v)}`}.`);
    case 'bool':
      if (typeof v === 'boolean') return ok(v);
      if (v === 'true' || v === 'false') return ok(v === 'true');
      return bad(`a bool is required${typeof v === 'string' ? `, got "${v}"` : `, got ${typeName(v)}`}.`);
    case 'list':
    case 'set': {
      if (!Array.isArray(v)) return bad(`${t.kind} of ${typeString(t.elem)} required, but have ${typeName(v)}.`);
      const out: Value[] = [];
      for (let i = 0; i < v.length; i++) {
        const r = convertValue(v[i] as Value, t.elem, `element ${i}`);
        if (!r.ok) return bad(r.message);
        out.push(r.value);
      }
      return ok(out);
    }
    case 'map': {
      if (!isObject(v)) return bad(`map of ${typeString(t.elem)} required, but have ${typeName(v)}.`);
      const out: ObjectValue = {};
      for (const [k, x] of Object.entries(v)) {
        const r = convertValue(x, t.elem, `element "${k}"`);
        if (!r.ok) return bad(r.message);
        out[k] = r.value;
      }
      return ok(out);
    }
    case 'tuple': {
      if (!Array.isArray(v)) return bad(`tuple required, but have ${typeName(v)}.`);
      if (v.length !== t.elems.length)
        return bad(`tuple required with ${t.elems.length} elements, but have ${v.length}.`);
      const out: Value[] = [];
      for (let i = 0; i < v.length; i++) {
        const r = convertValue(v[i] as Value, t.elems[i] as TypeSpec, `element ${i}`);
        if (!r.ok) return bad(r.message);
        out.push(r.value);
      }
      return ok(out);
    }
    case 'object': {
      if (!isObject(v)) return bad(`object required, but have ${typeName(v)}.`);
      const out: ObjectValue = {};
      for (const [k, a] of Object.entries(t.attrs)) {
        if (!(k in v) || v[k] === null) {
          if (!a.optional && !(k in v)) return bad(`attribute "${k}" is required.`);
          out[k] = a.default !== undefined ? a.default : null;
          continue;
        }
        const r = convertValue(v[k] as Value, a.type, `attribute "${k}"`);
        if (!r.ok) return bad(r.message);
        out[k] = r.value;
      }
      return ok(out);
    }
  }
}
