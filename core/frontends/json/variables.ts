/**
 * JSON user variables: precedence (default < var-files in order < -var in order), required checks, then
 * Packer's repeated rendering so variables may reference each other in any order (renderVarsRecursively).
 */
import { type Diagnostic, error, warning } from '../../template/diagnostics.ts';
import { isRenderError, type LegacyContext, type SecretRequest } from '../../template/legacy/context.ts';
import { renderLegacy } from '../../template/legacy/render.ts';
import { withRangeOnLimit } from '../../template/limits.ts';
import type { RawVariable } from './decodeRoot.ts';
import type { SourceMap } from './sourceMap.ts';

export interface InputValue {
  readonly value: string;
  /** `var-file:<path>` or `var`. */
  readonly source: string;
}

export interface ResolvedVariables {
  /** Final string value of every set variable (declared or given on the command line). */
  readonly values: Record<string, string>;
  readonly sources: Record<string, string>;
  /** Variables whose value waits for run time (secrets offline), with what they wait for. */
  readonly unknown: Map<string, readonly string[]>;
  readonly sensitive: string[];
  /** Pipeline mode: secrets to fetch before rendering again. */
  readonly pendingSecrets: SecretRequest[];
  readonly diagnostics: Diagnostic[];
}

const MAX_PASSES = 100;
/** Packer's isDoneInterpolating pattern: a `user` call with a backquoted name. */
const USER_CALL = /\{\{\s*user\s*`.*`\s*\}\}/;

/** `required variable not set: NAME` for each required variable no input sets (sorted, deterministic). */
export function checkRequired(
  vars: readonly RawVariable[],
  inputs: ReadonlyMap<string, InputValue>,
  map: SourceMap,
): Diagnostic[] {
  return vars
    .filter((v) => v.required && !inputs.has(v.name))
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((v) => error(`required variable not set: ${v.name}`, undefined, map.range(v.keySpan)));
}

export function resolveVariables(
  vars: readonly RawVariable[],
  inputs: ReadonlyMap<string, InputValue>,
  base: LegacyContext,
  map: SourceMap,
): ResolvedVariables {
  const raw = new Map<string, { text: string; source: string; span?: RawVariable['valueNode'] }>();
  for (const v of vars) {
    if (v.default !== undefined) raw.set(v.name, { text: v.default, source: 'default', span: v.valueNode });
  }
  for (const [k, input] of inputs) raw.set(k, { text: input.value, source: input.source });
  const values: Record<string, string> = {};
  const sources: Record<string, string> = {};
  const unknown = new Map<string, readonly string[]>();
  const sensitive: string[] = [];
  const pendingSecrets: SecretRequest[] = [];
  const diagnostics: Diagnostic[] = [];
  let pending = [...raw.keys()].sort();
  let lastFailure = '';
  for (let pass = 0; pass < MAX_PASSES && pending.length > 0; pass++) {
    const next: string[] = [];
    for (const k of pending) {
      const entry = raw.get(k);
      if (!entry) continue;
      const r = withRangeOnLimit(
        () =>
          renderLegacy(entry.text, {
            ...base,
            inVariables: true,
            userVariables: values,
            unknownUserVariables: new Set(unknown.keys()),
          }),
        entry.span ? map.range(entry.span) : undefined,
      );
      if (isRenderError(r)) {
        if (r.error.includes('variable not set:')) {
          next.push(k);
          lastFailure = `"${k}": "${entry.text}"; error: ${r.error}`;
          continue;
        }
        const range = entry.span ? map.range(entry.span) : undefined;
        diagnostics.push(error(`error interpolating default value for '${k}': ${r.error}`, undefined, range));
        continue;
      }
      values[k] = r.value;
      sources[k] = entry.source;
      if (r.unknowns?.length) unknown.set(k, r.unknowns);
      sensitive.push(...(r.sensitive ?? []));
      pendingSecrets.push(...(r.pendingSecrets ?? []));
    }
    if (next.length === pending.length) {
      // No progress: what is left references variables nobody sets. Packer only reports this when its last
      // pass rendered nothing; a variable that itself uses `{{user `x`}}` is re-rendered (successfully) on
      // every pass, which hides the failure, and the failing variables simply stay unset.
      const hidden = Object.keys(values).some((k) => USER_CALL.test(raw.get(k)?.text ?? ''));
      if (!hidden) {
        const first = next[0] as string;
        const span = raw.get(first)?.span;
        diagnostics.push(
          error(
            `Failed to interpolate ${lastFailure}: Please make sure that the variable you're referencing has been defined; Packer treats all variables used to interpolate other user variables as required.`,
            undefined,
            span ? map.range(span) : undefined,
          ),
        );
      }
      break;
    }
    pending = next;
  }
  for (const [k, sources_] of unknown) {
    if (base.mode === 'offline' && sources_.some((s) => s.startsWith('aws_secretsmanager'))) {
      const span = raw.get(k)?.span;
      diagnostics.push(
        warning(
          `Variable "${k}" needs AWS credentials: it reads AWS Secrets Manager`,
          `Packer resolves ${sources_.join(', ')} while loading the template; Kiln resolves it at build time, in your account.`,
          span ? map.range(span) : undefined,
        ),
      );
    }
  }
  return { values, sources, unknown, sensitive, pendingSecrets, diagnostics };
}
