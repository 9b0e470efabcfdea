/**
 * Field kinds for component schemas, written with zod but decoding the way Packer's mapstructure does with
 * `WeaklyTypedInput`: numbers and booleans may be written as strings (`"40960"`, `"true"`), a single value stands
 * for a one-element list. Every kind also accepts an UnknownValue (known only at run time) and a string still
 * holding a legacy `{{ }}` expression (rendered at run time), because neither can be judged offline.
 *
 * Each kind tags its zod issue with `params.kind`, which `describeIssue` turns into Packer's wording.
 */
import * as z from 'zod';
import type { TypeSpec } from '../hcl/eval/types.ts';
import { isUnknown } from '../template/model.ts';
import { parseGoDuration } from '../values/duration.ts';
import { goBool, goFloat, goInt, goString, goStringList } from './decode.ts';

export type FieldKind = 'string' | 'int' | 'float' | 'bool' | 'duration' | 'list' | 'map' | 'object' | 'enum';

/** A string that still holds a `{{ }}` expression or an HCL interpolation left for run time. */
export function isDeferred(value: unknown): boolean {
  return isUnknown(value) || (typeof value === 'string' && /\{\{.*\}\}|\$\{/s.test(value));
}

/**
 * What a field is in the component's HCL2 spec (its `hcl2spec.go`): an attribute of a cty type, or a nested block
 * with its own fields. HCL templates are converted to it by cty's rules (hcl-decode.ts) before the kinds below
 * (the JSON rule) see the value.
 */
export type HclField = { readonly type: TypeSpec } | { readonly block: z.ZodRawShape };

const HCL_FIELDS = new WeakMap<z.ZodType, HclField>();

function hcl<T extends z.ZodType>(schema: T, field: HclField): T {
  HCL_FIELDS.set(schema, field);
  return schema;
}

/** The HCL2 spec of a field built by this kit; undefined for `anything()` and hand-written schemas. */
export function hclField(schema: unknown): HclField | undefined {
  return HCL_FIELDS.get(schema as z.ZodType);
}

const STRING: TypeSpec = { kind: 'string' };
const NUMBER: TypeSpec = { kind: 'number' };
const HCL_KIND: Record<FieldKind, TypeSpec> = {
  string: STRING,
  int: NUMBER,
  float: NUMBER,
  bool: { kind: 'bool' },
  duration: STRING,
  list: { kind: 'list', elem: STRING },
  map: { kind: 'map', elem: STRING },
  object: { kind: 'any' },
  enum: STRING,
};

const pending = (v: unknown) => v === undefined || v === null || isDeferred(v);

/**
 * A value Kiln leaves for run time, as the plan holds it: a legacy `{{ }}` expression (`{{ .Path }}` in
 * `execute_command`), an HCL interpolation, or an UnknownValue in its stored form `<unknown: source>` (the plan
 * settles UnknownValues to that string when it decodes, so the in-memory and stored plans agree). A sealed
 * sensitive placeholder is a substring of a string value, so it never changes a value's type.
 */
export type RunTime = string;

/** What an option decodes to: its typed value, a value left for run time, or `null` as written. */
export type Decoded<T> = T | RunTime | null;

/** A schema field whose decoded (output) type is `Decoded<T>`; what it accepts is for `test` to say. */
export type Field<T> = z.ZodType<Decoded<T>, unknown>;

export type Scalar = string | number | boolean;

/**
 * A field of one kind: `test` decides what validates, `decode` turns an accepted value into the typed value the
 * plan stores and the stages read (parse once, one rule). Values pending until run time pass through as written.
 */
function kind<T>(
  name: FieldKind,
  test: (v: unknown) => boolean,
  extra: Record<string, unknown> = {},
  decode: (v: unknown) => unknown = (v) => v,
): Field<T> {
  const schema = z
    .custom<unknown>((v) => pending(v) || test(v), { params: { kind: name, ...extra } })
    .transform((v) => (pending(v) ? v : decode(v)) as Decoded<T>);
  return hcl(schema, { type: HCL_KIND[name] });
}

export function str() {
  return kind<string>(
    'string',
    (v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean',
    {},
    goString,
  );
}

export function int() {
  return kind<number>(
    'int',
    (v) =>
      (typeof v === 'number' && Number.isInteger(v)) ||
      typeof v === 'boolean' ||
      (typeof v === 'string' && /^\s*([-+]?\d+)?\s*$/.test(v)),
    {},
    goInt,
  );
}

export function float() {
  return kind<number>(
    'float',
    (v) => typeof v === 'number' || (typeof v === 'string' && Number.isFinite(Number(v))),
    {},
    goFloat,
  );
}

export function bool() {
  return kind<boolean>('bool', (v) => goBool(v) !== undefined, {}, goBool);
}

export function duration() {
  return kind<string>('duration', (v) => typeof v === 'string' && (v === '' || parseGoDuration(v) !== undefined));
}

function listOf(item: (v: unknown) => boolean) {
  return (v: unknown) => (Array.isArray(v) ? v.every((x) => x === null || isDeferred(x) || item(x)) : item(v));
}

const isScalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** `[]string`; a lone string is a list of one (mapstructure weak decoding). */
export function strList() {
  return kind<readonly (string | null)[]>('list', listOf(isScalar), { of: 'string' }, (v) => goStringList(v, pending));
}

/**
 * `map[string]string`. HCL values arrive as strings (cty converted them, hcl-decode.ts); legacy JSON values are kept
 * as written (a number or boolean), and whoever prints one uses `String()`.
 */
export function strMap() {
  return kind<Readonly<Record<string, Scalar | null>>>(
    'map',
    (v) =>
      typeof v === 'object' &&
      !Array.isArray(v) &&
      Object.values(v as object).every((x) => x === null || isDeferred(x) || isScalar(x)),
  );
}

/** Any JSON object (free-form maps such as `changes`, `custom_data`, policy documents). */
export function anyObject() {
  return kind<Record<string, unknown>>('object', (v) => typeof v === 'object' && !Array.isArray(v));
}

/** `[][]string` such as `vboxmanage`, `qemuargs`. */
export function strListList() {
  const schema = kind<readonly (readonly unknown[] | RunTime)[]>(
    'list',
    (v) => Array.isArray(v) && v.every((x) => isDeferred(x) || listOf(isScalar)(x)),
    { of: 'list of strings' },
  );
  return hcl(schema, { type: { kind: 'list', elem: { kind: 'list', elem: STRING } } });
}

export function oneOf<const V extends string>(...values: readonly V[]) {
  return kind<V>('enum', (v) => typeof v === 'string' && (values as readonly string[]).includes(v), { values });
}

/** Every option is optional: requiredness is a rule with Packer's own message, not a schema failure. */
export function optionalShape<S extends z.ZodRawShape>(shape: S): { [K in keyof S]: z.ZodOptional<S[K]> } {
  return Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, (v as z.ZodType).optional()])) as unknown as {
    [K in keyof S]: z.ZodOptional<S[K]>;
  };
}

/**
 * The decoded configuration of a shape: each option optional, typed by what its field decodes to. Derived from
 * the shape that validates it, so the two cannot drift.
 */
export type ConfigOf<S extends z.ZodRawShape> = { readonly [K in keyof S]?: z.output<S[K]> };

export function anything() {
  return z.unknown();
}

const absent = (v: unknown) => v === undefined || v === null || isUnknown(v);

/**
 * A nested block (`source_ami_filter { ... }`, `metadata_options`): JSON writes an object, HCL front ends may
 * hand a one-element list, decoded to the object; unknown keys inside are reported by zod as `unrecognized_keys`.
 */
export function block<S extends z.ZodRawShape>(shape: S): Field<ConfigOf<S>> {
  const inner = z.strictObject(optionalShape(shape));
  const schema = z
    .union([inner, z.array(inner).max(1)])
    .or(z.custom<never>(absent))
    .transform((v) => (Array.isArray(v) ? v[0] : v) as Decoded<ConfigOf<S>>);
  return hcl(schema, { block: shape });
}

/** A repeatable nested block (`launch_block_device_mappings`): a list of objects, or one object (decoded to a list of one). */
export function blockList<S extends z.ZodRawShape>(shape: S): Field<readonly ConfigOf<S>[]> {
  const inner = z.strictObject(optionalShape(shape));
  const schema = z
    .union([z.array(inner), inner])
    .or(z.custom<never>(absent))
    .transform(
      (v) =>
        (v === undefined || v === null || Array.isArray(v) || isUnknown(v) ? v : [v]) as Decoded<
          readonly ConfigOf<S>[]
        >,
    );
  return hcl(schema, { block: shape });
}

/** Packer's `[]config.KeyValue` (`tag { key = ... value = ... }`), the HCL spelling of a map. */
export function keyValueList() {
  return blockList({ key: str(), value: str() });
}

export function nameValueList() {
  return blockList({ name: str(), value: str() });
}
