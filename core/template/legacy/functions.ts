/**
 * The functions of Packer's legacy template engine (packer-plugin-sdk/template/interpolate/funcs.go), plus the
 * Go builtins templates use (`print`, `eq`...). Errors use Packer's wording so users can search for them.
 */
import { randomUUID } from 'node:crypto';
import { PACKER_COMPAT_VERSION } from '../model.ts';
import { cleanAmazonImageName, cleanGceImageName } from './cleanResourceName.ts';
import { type LegacyContext, type SecretRequest, secretRequestKey } from './context.ts';
import { formatGoTime, formatStrftime, RFC3339 } from './goTime.ts';
import { Deferred, FuncError, goTypeName, printValue, truthy, Unknown, type Value } from './values.ts';

type Param = 'string' | 'int' | 'any';

/** What a function may record while it runs (secrets used, secrets still to fetch). */
export interface CallRecorder {
  sensitive(value: string): void;
  pending(request: SecretRequest): void;
}

interface FuncSpec {
  readonly params: readonly Param[];
  /** Type of extra arguments when the function is variadic. */
  readonly variadic?: Param;
  readonly call: (args: readonly Value[], ctx: LegacyContext, rec: CallRecorder) => Value;
}

const s = (v: Value) => v as string;
const n = (v: Value) => v as number;

function now(ctx: LegacyContext): Date {
  return ctx.now ?? new Date();
}

function secret(ctx: LegacyContext, rec: CallRecorder, request: SecretRequest): Value {
  if (!ctx.inVariables) throw new FuncError('AWS Secrets Manager is only allowed in the variables section');
  const label = `aws_secretsmanager${request.raw ? '_raw' : ''}:${request.secretId}${request.key ? `:${request.key}` : ''}`;
  if (ctx.mode === 'offline') return new Unknown([label]);
  const value = ctx.secrets?.get(secretRequestKey(request));
  if (value === undefined) {
    rec.pending(request);
    return new Unknown([label]);
  }
  rec.sensitive(value);
  return value;
}

function compare(a: Value, b: Value, name: string): number {
  if (typeof a !== typeof b) throw new FuncError(`incompatible types for comparison`);
  if (typeof a === 'string' || typeof a === 'number') return a < (b as typeof a) ? -1 : a > (b as typeof a) ? 1 : 0;
  throw new FuncError(`invalid type for comparison in ${name}`);
}

/** Minimal fmt.Sprintf: %s %v %d %q %%, enough for the formats seen in Packer templates. */
function sprintf(format: string, args: readonly Value[]): string {
  let i = 0;
  return format.replace(/%([svdq%])/g, (_m, verb: string) => {
    if (verb === '%') return '%';
    if (i >= args.length) return `%!${verb}(MISSING)`;
    const v = args[i++] as Value;
    if (verb === 'q') return JSON.stringify(printValue(v));
    if (verb === 'd' && typeof v !== 'number') return `%!d(${goTypeName(v)}=${printValue(v)})`;
    return printValue(v);
  });
}

const NOT_SUPPORTED = (name: string) => () => {
  throw new FuncError(
    `${name} is not supported by Kiln: store the value in AWS Secrets Manager (aws_secretsmanager) or pass it with -var`,
  );
};

export const FUNCTIONS: Readonly<Record<string, FuncSpec>> = {
  user: {
    params: ['string'],
    call: ([k], ctx) => {
      const key = s(k as Value);
      if (ctx.unknownUserVariables?.has(key)) return new Unknown([`user:${key}`]);
      const v = ctx.userVariables?.[key];
      if (v !== undefined) return v;
      // Packer: an error only while rendering variables (so it can retry in order); elsewhere the empty string.
      if (ctx.inVariables) throw new FuncError(`Error: variable not set: ${key}`);
      return '';
    },
  },
  env: {
    params: ['string'],
    call: ([k], ctx) => {
      if (!ctx.inVariables) throw new FuncError('env vars are not allowed here');
      return ctx.env?.[s(k as Value)] ?? '';
    },
  },
  timestamp: { params: [], call: (_a, ctx) => String(Math.floor(now(ctx).getTime() / 1000)) },
  isotime: {
    params: [],
    variadic: 'string',
    call: (args, ctx) => {
      if (args.length > 1) throw new FuncError(`too many values, 1 needed: [${args.map(printValue).join(' ')}]`);
      return formatGoTime(now(ctx), args.length === 0 ? RFC3339 : s(args[0] as Value));
    },
  },
  strftime: { params: ['string'], call: ([f], ctx) => formatStrftime(now(ctx), s(f as Value)) },
  uuid: { params: [], call: (_a, ctx) => (ctx.uuid ?? randomUUID)() },
  pwd: {
    params: [],
    call: (_a, ctx) => {
      if (ctx.pwd === undefined) throw new FuncError('pwd not available');
      return ctx.pwd;
    },
  },
  template_dir: {
    params: [],
    call: (_a, ctx) => {
      if (!ctx.templateDir) throw new FuncError('template path not available');
      return ctx.templateDir;
    },
  },
  build_name: {
    params: [],
    call: (_a, ctx) => {
      if (!ctx.buildName) throw new FuncError('build_name not available');
      return ctx.buildName;
    },
  },
  build_type: {
    params: [],
    call: (_a, ctx) => {
      if (!ctx.buildType) throw new FuncError('build_type not available');
      return ctx.buildType;
    },
  },
  packer_version: { params: [], call: (_a, ctx) => ctx.packerVersion ?? PACKER_COMPAT_VERSION },
  split: {
    params: ['string', 'string', 'int'],
    call: ([k, sep, i]) => {
      const parts = s(k as Value).split(s(sep as Value));
      const idx = n(i as Value);
      if (idx < 0 || parts.length <= idx) {
        throw new FuncError(
          `the substring ${idx} was unavailable using the separator value, ${s(sep as Value)}, only ${parts.length} values were found`,
        );
      }
      return parts[idx] as string;
    },
  },
  replace: {
    params: ['string', 'string', 'int', 'string'],
    call: ([from, to, count, src]) => {
      const parts = s(src as Value).split(s(from as Value));
      const max = n(count as Value);
      // Go's strings.Replace: n < 0 means all; only the first n occurrences otherwise.
      if (max < 0 || max >= parts.length - 1) return parts.join(s(to as Value));
      return (
        parts.slice(0, max + 1).join(s(to as Value)) + s(from as Value) + parts.slice(max + 1).join(s(from as Value))
      );
    },
  },
  replace_all: {
    params: ['string', 'string', 'string'],
    call: ([from, to, src]) =>
      s(src as Value)
        .split(s(from as Value))
        .join(s(to as Value)),
  },
  upper: { params: ['string'], call: ([v]) => s(v as Value).toUpperCase() },
  lower: { params: ['string'], call: ([v]) => s(v as Value).toLowerCase() },
  clean_resource_name: {
    params: ['string'],
    call: ([v], ctx) => {
      const rules = ctx.cleanResourceNameRules ?? (ctx.buildType === 'googlecompute' ? 'gce' : 'amazon');
      return rules === 'gce' ? cleanGceImageName(s(v as Value)) : cleanAmazonImageName(s(v as Value));
    },
  },
  build: {
    params: ['string'],
    call: ([k], ctx) => ctx.buildData?.[s(k as Value)] ?? Deferred.instance,
  },
  aws_secretsmanager: {
    params: [],
    variadic: 'string',
    call: (args, ctx, rec) => {
      if (!ctx.inVariables) throw new FuncError('AWS Secrets Manager is only allowed in the variables section');
      if (args.length === 0) throw new FuncError('secret name must be provided');
      if (args.length > 2) throw new FuncError('only secret name and optional secret key can be provided.');
      const key = args.length === 2 ? s(args[1] as Value) : undefined;
      return secret(ctx, rec, { secretId: s(args[0] as Value), raw: false, ...(key ? { key } : {}) });
    },
  },
  aws_secretsmanager_raw: {
    params: ['string'],
    call: ([id], ctx, rec) => secret(ctx, rec, { secretId: s(id as Value), raw: true }),
  },
  consul_key: { params: ['string'], call: NOT_SUPPORTED('consul_key') },
  vault: { params: ['string', 'string'], call: NOT_SUPPORTED('vault') },
  sed: {
    params: ['string', 'string'],
    call: () => {
      throw new FuncError(
        'template function `sed` is deprecated use `replace` or `replace_all` instead.Documentation: https://www.packer.io/docs/templates/engine',
      );
    },
  },
  // Go text/template builtins.
  print: { params: [], variadic: 'any', call: (args) => goSprint(args) },
  println: { params: [], variadic: 'any', call: (args) => `${args.map(printValue).join(' ')}\n` },
  printf: { params: ['string'], variadic: 'any', call: ([f, ...rest]) => sprintf(s(f as Value), rest) },
  len: {
    params: ['any'],
    call: ([v]) => {
      if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
      if (Array.isArray(v)) return v.length;
      if (v !== null && typeof v === 'object') return Object.keys(v).length;
      throw new FuncError(`len of type ${goTypeName(v as Value)}`);
    },
  },
  not: { params: ['any'], call: ([v]) => !truthy(v as Value) },
  and: { params: ['any'], variadic: 'any', call: (args) => args.find((a) => !truthy(a)) ?? (args.at(-1) as Value) },
  or: { params: ['any'], variadic: 'any', call: (args) => args.find((a) => truthy(a)) ?? (args.at(-1) as Value) },
  eq: {
    params: ['any'],
    variadic: 'any',
    call: ([a, ...rest]) => rest.some((b) => compare(a as Value, b, 'eq') === 0),
  },
  ne: { params: ['any', 'any'], call: ([a, b]) => compare(a as Value, b as Value, 'ne') !== 0 },
  lt: { params: ['any', 'any'], call: ([a, b]) => compare(a as Value, b as Value, 'lt') < 0 },
  le: { params: ['any', 'any'], call: ([a, b]) => compare(a as Value, b as Value, 'le') <= 0 },
  gt: { params: ['any', 'any'], call: ([a, b]) => compare(a as Value, b as Value, 'gt') > 0 },
  ge: { params: ['any', 'any'], call: ([a, b]) => compare(a as Value, b as Value, 'ge') >= 0 },
};

/** fmt.Sprint: spaces between operands when neither side is a string. */
function goSprint(args: readonly Value[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += printValue(a);
  });
  return out;
}

export function isLegacyFunction(name: string): boolean {
  return Object.hasOwn(FUNCTIONS, name);
}

/** Checks argument count and types the way Go's reflection-based call does, then calls. */
export function callFunction(name: string, args: readonly Value[], ctx: LegacyContext, rec: CallRecorder): Value {
  const spec = FUNCTIONS[name];
  if (!spec) throw new FuncError(`function "${name}" not defined`);
  const fixed = spec.params.length;
  if (spec.variadic ? args.length < fixed : args.length !== fixed) {
    const want = spec.variadic ? `at least ${fixed}` : String(fixed);
    throw new ArgCountError(`wrong number of args for ${name}: want ${want} got ${args.length}`);
  }
  args.forEach((a, i) => {
    const t = i < fixed ? spec.params[i] : spec.variadic;
    if (t === 'string' && typeof a !== 'string') {
      throw new ArgTypeError(`wrong type for value; expected string; got ${goTypeName(a)}`);
    }
    if (t === 'int' && !(typeof a === 'number' && Number.isInteger(a))) {
      throw new ArgTypeError(`wrong type for value; expected int; got ${goTypeName(a)}`);
    }
  });
  return spec.call(args, ctx, rec);
}

/** Raised before the call: Go reports these without "error calling". */
export class ArgCountError extends Error {}
export class ArgTypeError extends Error {}
