/**
 * Turns zod issues into Packer-worded diagnostics. JSON templates get mapstructure's wording
 * (`'disk_size' expected type 'int', got unconvertible type 'string', value: 'big'`), HCL templates get HCL's
 * (`Incorrect attribute value type` / `Inappropriate value for attribute "disk_size": a number is required.`).
 */
import type { z } from 'zod';
import { type Diagnostic, error, type SourceRange } from '../template/diagnostics.ts';
import type { TemplateFormat } from '../template/model.ts';
import type { FieldKind } from './fields.ts';

type Issue = z.core.$ZodIssue;
type PathKey = PropertyKey;

const GO_TYPES: Record<FieldKind, string> = {
  string: 'string',
  int: 'int',
  float: 'float64',
  bool: 'bool',
  duration: 'time.Duration',
  list: '[]string',
  map: 'map[string]string',
  object: 'map[string]interface {}',
  enum: 'string',
};

const HCL_TYPES: Record<FieldKind, string> = {
  string: 'string required',
  int: 'number required',
  float: 'number required',
  bool: 'bool required',
  duration: 'string required',
  list: 'list of string required',
  map: 'map of string required',
  object: 'object required',
  enum: 'string required',
};

export function formatPath(path: readonly PathKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out;
}

function valueAt(input: unknown, path: readonly PathKey[]): unknown {
  let v = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function goTypeOf(v: unknown): string {
  if (Array.isArray(v)) return 'slice';
  if (v === null) return 'nil';
  if (typeof v === 'object') return 'map';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  return typeof v;
}

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Go's `time.ParseDuration` error text for a bad duration string. */
export function durationError(value: string): string {
  return /^[-+]?[\d.]+$/.test(value)
    ? `time: missing unit in duration "${value}"`
    : `time: invalid duration "${value}"`;
}

function typeMismatch(
  kind: FieldKind,
  path: readonly PathKey[],
  value: unknown,
  format: TemplateFormat,
  range: SourceRange | undefined,
  values?: readonly string[],
): Diagnostic {
  const name = formatPath(path);
  if (kind === 'duration' && typeof value === 'string') {
    return error(`${name}: ${durationError(value)}`, undefined, range);
  }
  if (kind === 'enum' && typeof value === 'string') {
    return error(
      `${name} must be one of ${(values ?? []).map((x) => `"${x}"`).join(', ')}; got "${value}"`,
      undefined,
      range,
    );
  }
  if (format === 'hcl') {
    const article = /^[aeiou]/.test(HCL_TYPES[kind]) ? 'an' : 'a';
    return error(
      'Incorrect attribute value type',
      `Inappropriate value for attribute "${name}": ${article} ${HCL_TYPES[kind].replace(/ required$/, '')} is required.`,
      range,
    );
  }
  return error(
    `'${name}' expected type '${GO_TYPES[kind]}', got unconvertible type '${goTypeOf(value)}', value: '${show(value)}'`,
    undefined,
    range,
  );
}

/** Picks the union branch that best explains the failure: the one that got past the root type check. */
function bestBranch(branches: readonly (readonly Issue[])[]): readonly Issue[] {
  const meaningful = branches.filter(
    (b) => b.length > 0 && !b.every((i) => (i.code === 'invalid_type' || i.code === 'custom') && i.path.length === 0),
  );
  const pool = meaningful.length > 0 ? meaningful : branches;
  return [...pool].sort((a, b) => a.length - b.length)[0] ?? [];
}

export function describeIssue(
  issue: Issue,
  input: unknown,
  format: TemplateFormat,
  range: SourceRange | undefined,
  prefix: readonly PathKey[] = [],
): Diagnostic[] {
  const path = [...prefix, ...issue.path];
  switch (issue.code) {
    case 'custom': {
      const params = (issue.params ?? {}) as { kind?: FieldKind; values?: readonly string[] };
      if (params.kind) return [typeMismatch(params.kind, path, valueAt(input, path), format, range, params.values)];
      return [error(`${formatPath(path)}: ${issue.message}`, undefined, range)];
    }
    case 'invalid_union': {
      const branch = bestBranch(issue.errors);
      if (branch.length === 0) return [typeMismatch('object', path, valueAt(input, path), format, range)];
      return branch.flatMap((i) => describeIssue(i, input, format, range, path));
    }
    case 'invalid_type':
      return [typeMismatch(issue.expected === 'array' ? 'list' : 'object', path, valueAt(input, path), format, range)];
    case 'unrecognized_keys':
      return issue.keys.map((key) => {
        const full = formatPath([...path, key]);
        return format === 'hcl'
          ? error(
              'Unsupported argument',
              `An argument named "${key}" is not expected here (in ${formatPath(path)}).`,
              range,
            )
          : error(`Unknown configuration key: "${full}"`, undefined, range);
      });
    case 'too_big':
      return [error(`Only one "${formatPath(path)}" block is allowed`, undefined, range)];
    default:
      return [error(`${formatPath(path)}: ${issue.message}`, undefined, range)];
  }
}
