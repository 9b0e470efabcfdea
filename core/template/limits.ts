/**
 * Resource budgets for untrusted templates. A template upload is attacker-controlled input that PrepareBuild
 * evaluates on every upload and the `kiln` CLI evaluates on a laptop, so every way a template can make the
 * engine work (evaluation steps, collection and string sizes, nesting, diagnostics, file size, time) has a
 * ceiling here, with one default that the pipeline always uses. Past a ceiling the engine stops with a
 * diagnostic that names the limit, never with a RangeError, a heap abort or a hang.
 *
 * Budgets travel with the load through AsyncLocalStorage, so the many small evaluation functions need no extra
 * parameter and two loads running concurrently in one process never share a count.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { DEFAULT_SNIPPET_CHARS, type Diagnostic, error, type SourceRange } from './diagnostics.ts';

export interface TemplateLimits {
  /** Bytes of one template, var-file or file read by a template function. */
  readonly maxFileBytes: number;
  /** Nested brackets, braces and parentheses (HCL) or arrays and objects (JSON) in one value or expression. */
  readonly maxNestingDepth: number;
  /** Evaluation steps in one load: expressions evaluated, loop iterations, elements built by functions. */
  readonly maxEvalSteps: number;
  /** Elements in one list, set, map or object produced while evaluating. */
  readonly maxCollectionLength: number;
  /** UTF-16 code units in one string produced while evaluating or rendering. */
  readonly maxStringLength: number;
  /** Diagnostics kept for one load; the rest are counted in a final diagnostic. */
  readonly maxDiagnostics: number;
  /** Characters of all diagnostic summaries and details together. */
  readonly maxDiagnosticChars: number;
  /** Characters of the source line printed under a diagnostic (a window around the column). */
  readonly maxSnippetChars: number;
  /** Milliseconds for one load (parse, evaluate, validate). */
  readonly maxWallTimeMs: number;
  /** Milliseconds for one call of the strict HCL syntax checker (its start-up is not counted). */
  readonly syntaxCheckTimeoutMs: number;
}

export type LimitName = keyof TemplateLimits;

export const DEFAULT_LIMITS: TemplateLimits = Object.freeze({
  // HCL parsing costs ~2-4 s per MB on a busy 2-core machine (measured); real templates are kilobytes.
  maxFileBytes: 1024 * 1024,
  maxNestingDepth: 200,
  maxEvalSteps: 2_000_000,
  maxCollectionLength: 100_000,
  maxStringLength: 4 * 1024 * 1024,
  maxDiagnostics: 200,
  maxDiagnosticChars: 256 * 1024,
  maxSnippetChars: DEFAULT_SNIPPET_CHARS,
  maxWallTimeMs: 30_000,
  syntaxCheckTimeoutMs: 15_000,
});

export const LIMIT_NAMES = Object.keys(DEFAULT_LIMITS) as LimitName[];

const UNITS: Record<LimitName, string> = {
  maxFileBytes: 'bytes',
  maxNestingDepth: 'levels',
  maxEvalSteps: 'steps',
  maxCollectionLength: 'elements',
  maxStringLength: 'characters',
  maxDiagnostics: 'diagnostics',
  maxDiagnosticChars: 'characters',
  maxSnippetChars: 'characters',
  maxWallTimeMs: 'ms',
  syntaxCheckTimeoutMs: 'ms',
};

/** Merges caller overrides onto the defaults; a non-positive or non-integer override is a caller bug. */
export function resolveLimits(overrides: Partial<TemplateLimits> = {}): TemplateLimits {
  const out: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const [k, v] of Object.entries(overrides)) {
    if (!(k in DEFAULT_LIMITS)) throw new TypeError(`Unknown template limit "${k}" (known: ${LIMIT_NAMES.join(', ')})`);
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v <= 0) throw new TypeError(`Template limit ${k} must be a positive integer`);
    out[k] = v;
  }
  return out as unknown as TemplateLimits;
}

/** Parses `name=value` as given to `kiln ... -limit`; returns a message on error. */
export function parseLimitAssignment(raw: string): readonly [LimitName, number] | string {
  const eq = raw.indexOf('=');
  const name = raw.slice(0, eq) as LimitName;
  const value = Number(raw.slice(eq + 1));
  if (eq <= 0 || !LIMIT_NAMES.includes(name))
    return `-limit expects NAME=VALUE with NAME one of ${LIMIT_NAMES.join(', ')}; got "${raw}"`;
  if (!Number.isSafeInteger(value) || value <= 0) return `-limit ${name} needs a positive integer; got "${raw}"`;
  return [name, value];
}

function howToRaise(limit: LimitName, value: number): string {
  return (
    `The limit is ${value} ${UNITS[limit]}` +
    (value === DEFAULT_LIMITS[limit] ? ' (the default, which the build pipeline always uses)' : '') +
    `. If the template is legitimate, raise it locally with \`-limit ${limit}=N\` ` +
    `(LoadOptions.limits.${limit}); the pipeline refuses such templates.`
  );
}

/** Thrown by budget checks; loadTemplate turns it into one diagnostic. Never caught by HCL `try`/`can`. */
export class LimitExceeded extends Error {
  override readonly name = 'LimitExceeded';
  constructor(
    readonly limit: LimitName,
    readonly value: number,
    /** What went past the limit, e.g. `string produced by join` */
    readonly what: string,
    readonly range?: SourceRange,
  ) {
    super(`${what} exceeds the ${limit} limit of ${value} ${UNITS[limit]}`);
  }
  withRange(range: SourceRange | undefined): LimitExceeded {
    return this.range || !range ? this : new LimitExceeded(this.limit, this.value, this.what, range);
  }
}

export function limitDiagnostic(limit: LimitName, value: number, what: string, range?: SourceRange): Diagnostic {
  return error(`Template limit ${limit} exceeded`, `${what}. ${howToRaise(limit, value)}`, range);
}

export function limitExceededDiagnostic(e: LimitExceeded): Diagnostic {
  return limitDiagnostic(e.limit, e.value, e.what, e.range);
}

/** Per-load counters. Checks are cheap comparisons; the clock is read every 1024 steps. */
export class Budget {
  private steps = 0;
  readonly deadline: number;
  constructor(
    readonly limits: TemplateLimits,
    /** False for the fallback budget used outside a load (unit tests calling the evaluator directly). */
    private readonly counting = true,
  ) {
    this.deadline = Date.now() + limits.maxWallTimeMs;
  }

  /** Counts `n` units of work (evaluating an expression, one loop iteration, elements a function builds). */
  step(n = 1, range?: SourceRange): void {
    if (!this.counting) return;
    this.steps += n;
    if (this.steps > this.limits.maxEvalSteps)
      throw new LimitExceeded(
        'maxEvalSteps',
        this.limits.maxEvalSteps,
        'Evaluating the template takes too many steps',
        range,
      );
    if ((this.steps & 1023) === 0 || n > 1023) this.checkTime(range);
  }

  checkTime(range?: SourceRange): void {
    if (this.counting && Date.now() > this.deadline)
      throw new LimitExceeded('maxWallTimeMs', this.limits.maxWallTimeMs, 'Loading the template takes too long', range);
  }

  get used(): number {
    return this.steps;
  }

  /** Checks the length of a string before or after building it. */
  stringLength(length: number, what: string, range?: SourceRange): void {
    if (length > this.limits.maxStringLength)
      throw new LimitExceeded(
        'maxStringLength',
        this.limits.maxStringLength,
        `${what} would be ${length} characters long`,
        range,
      );
  }

  /** Checks the size of a collection before building it, and counts its elements as steps. */
  collection(length: number, what: string, range?: SourceRange): void {
    if (length > this.limits.maxCollectionLength)
      throw new LimitExceeded(
        'maxCollectionLength',
        this.limits.maxCollectionLength,
        `${what} would have ${length} elements`,
        range,
      );
    this.step(length, range);
  }

  depth(depth: number, what: string, range?: SourceRange): void {
    if (depth > this.limits.maxNestingDepth)
      throw new LimitExceeded(
        'maxNestingDepth',
        this.limits.maxNestingDepth,
        `${what} nests deeper than ${this.limits.maxNestingDepth} levels`,
        range,
      );
  }
}

const store = new AsyncLocalStorage<Budget>();
const fallback = new Budget(DEFAULT_LIMITS, false);

/** The budget of the load in progress; outside one, the default per-value limits without step counting. */
export function currentBudget(): Budget {
  return store.getStore() ?? fallback;
}

export function currentLimits(): TemplateLimits {
  return currentBudget().limits;
}

/**
 * A budget stop as one diagnostic. Engine RangeErrors (call stack, string length) are mapped too, as a last
 * line of defence for a path no budget covers yet: the template is refused and the process lives on.
 */
export function budgetFailure(e: unknown, limits: TemplateLimits): Diagnostic | undefined {
  if (e instanceof LimitExceeded) return limitExceededDiagnostic(e);
  if (e instanceof RangeError && /call stack/i.test(e.message))
    return limitDiagnostic('maxNestingDepth', limits.maxNestingDepth, 'The template nests too deeply to evaluate');
  if (e instanceof RangeError && /string length|array length/i.test(e.message))
    return limitDiagnostic('maxStringLength', limits.maxStringLength, 'The template builds a value too large to hold');
  return undefined;
}

/** What a budgeted load returns (model.ts's LoadResult): its diagnostics, and the budget it used. */
export interface BudgetedResult {
  readonly diagnostics: readonly Diagnostic[];
  readonly usage?: { readonly steps: number; readonly ms: number };
}

/**
 * Runs a front end under a budget; a budget stop ends the load with `stopped(diagnostic)` instead of an
 * exception. Generic over the result so the budget sits below the template model (model.ts: `stoppedLoad`).
 */
export async function loadWithinBudget<R extends BudgetedResult>(
  overrides: Partial<TemplateLimits> | undefined,
  load: () => Promise<R>,
  stopped: (diagnostic: Diagnostic) => R,
): Promise<R> {
  const outer = store.getStore();
  const limits = outer?.limits ?? resolveLimits(overrides);
  try {
    if (outer) return await load();
    const budget = new Budget(limits);
    const result = await store.run(budget, load);
    return { ...result, usage: { steps: budget.used, ms: Date.now() - (budget.deadline - limits.maxWallTimeMs) } };
  } catch (e) {
    // Inside an outer load, the outer one reports it (once).
    if (outer) throw e;
    const d = budgetFailure(e, limits);
    if (!d) throw e;
    return stopped(d);
  }
}

/** Runs `fn`; a budget stop without a position gets `range` (the value being rendered). */
export function withRangeOnLimit<T>(fn: () => T, range: SourceRange | undefined): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof LimitExceeded) throw e.withRange(range);
    throw e;
  }
}
