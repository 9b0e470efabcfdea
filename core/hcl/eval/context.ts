/** Evaluation scope: root names (`var`, `local`, `path`, iteration variables) and the function table. */
import type { FileAccess } from '../../files/access.ts';
import type { SourceRange } from '../../template/diagnostics.ts';
import type { Value } from './values.ts';

/** A root whose attributes are computed on demand (locals evaluate lazily, `var.x` checks declarations). */
export interface LazyRoot {
  readonly lazy: true;
  get(name: string, range: SourceRange): Value;
  whole(range: SourceRange): Value;
}

export interface CallInfo {
  readonly name: string;
  readonly range: SourceRange;
  readonly argRanges: readonly SourceRange[];
  readonly ctx: EvalContext;
}

export interface FunctionDef {
  /** Minimum number of arguments. */
  readonly min: number;
  /** Maximum; `undefined` means variadic. Defaults to `min`. */
  readonly max?: number | 'variadic';
  /** When false (default), a call with any unknown argument returns unknown without running. */
  readonly acceptsUnknown?: boolean;
  readonly impl: (args: Value[], call: CallInfo) => Value;
}

export interface Environment {
  /** Working directory (`abspath`, `path.cwd`). */
  readonly cwd: string;
  /** Directory relative paths of file functions resolve against: the template directory, as Packer's basedir. */
  readonly baseDir: string;
  readonly readFile: (path: string) => string | undefined;
  /** Confinement and bounded reads for file functions; without it they read through `readFile`, unconfined. */
  readonly files?: FileAccess;
  readonly now: () => Date;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface EvalContext {
  readonly roots: ReadonlyMap<string, Value | LazyRoot>;
  readonly functions: ReadonlyMap<string, FunctionDef>;
  readonly environment: Environment;
  readonly parent?: EvalContext;
}

export function isLazyRoot(v: Value | LazyRoot | undefined): v is LazyRoot {
  return (
    typeof v === 'object' && v !== null && (v as LazyRoot).lazy === true && typeof (v as LazyRoot).get === 'function'
  );
}

export function lookupRoot(ctx: EvalContext, name: string): Value | LazyRoot | undefined {
  for (let c: EvalContext | undefined = ctx; c; c = c.parent) {
    if (c.roots.has(name)) return c.roots.get(name);
  }
  return undefined;
}

export function childContext(ctx: EvalContext, vars: Record<string, Value>): EvalContext {
  return { roots: new Map(Object.entries(vars)), functions: ctx.functions, environment: ctx.environment, parent: ctx };
}

export function allRootNames(ctx: EvalContext): string[] {
  const names = new Set<string>();
  for (let c: EvalContext | undefined = ctx; c; c = c.parent) for (const k of c.roots.keys()) names.add(k);
  return [...names];
}
