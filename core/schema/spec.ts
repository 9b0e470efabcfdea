/**
 * The shape every component module (builder, provisioner, post-processor) exports, and the shared validation
 * pass: unknown and removed keys first (with did-you-mean and the key's range), then the zod schema for types,
 * then the component's own cross-field rules. Everything is collected; nothing throws.
 */
import type { z } from 'zod';
import { type Diagnostic, error, type SourceRange, warning } from '../template/diagnostics.ts';
import { type Config, isUnknown, type KeyRanges, type TemplateFormat } from '../template/model.ts';
import { didYouMean } from '../template/suggest.ts';
import { decodeHcl, type HclDecoded, hclProblemDetail } from './hcl-decode.ts';
import { describeIssue } from './issues.ts';

export type ComponentKind = 'builder' | 'provisioner' | 'post-processor';

export interface ValidateContext {
  readonly format: TemplateFormat;
  /** Template directory: relative script and file paths resolve against it (Packer resolves against cwd). */
  readonly templateDir: string;
  /** Working directory Packer would run from (LoadOptions.cwd); relative paths are tried there first. */
  readonly cwd?: string;
  /** Whether a path exists on disk; injected so tests and the Lambda (bundle in memory) can answer. */
  readonly fileExists: (path: string) => boolean;
  /** Range of the whole block, used when a problem has no key of its own. */
  readonly range?: SourceRange;
}

/** A cross-field problem found by a component rule; `key` points the diagnostic at that key's range. */
export interface Finding {
  readonly message: string;
  readonly key?: string;
  readonly detail?: string;
  readonly severity?: 'error' | 'warning';
}

/**
 * One cross-field rule of a component (cdk-nag style: one per file, named for what it checks, with compliant and
 * non-compliant cases in its test). A component's `rules` runs its list in order.
 */
export type ComponentRule = (config: Config, ctx: ValidateContext) => Finding[];

/**
 * A component's spec. `T` is its type name and `C` its decoded configuration (`ConfigOf` its shape), so a catalog
 * can name the configuration of each of its types without writing it twice.
 */
export interface ComponentSpec<T extends string = string, C extends Config = Config> {
  readonly type: T;
  readonly kind: ComponentKind;
  readonly validate: (config: Config, keyRanges: KeyRanges | undefined, ctx: ValidateContext) => Diagnostic[];
  /** Every option name the schema knows, for did-you-mean and documentation. */
  readonly keys: readonly string[];
  /**
   * The configuration with each known option decoded to its typed value by its format's rules (plan time; see
   * decode.ts); keys the schema does not know (`type`, Packer's own) are kept as written.
   */
  readonly decode: (config: Config, format: TemplateFormat) => C;
  /** Which options the HCL2 spec writes as nested blocks and which as arguments (`name = value`). */
  readonly hclShape: HclShape;
}

/** The body shape HCL's decoder enforces: an option is either a block or an argument (untyped ones: either). */
export interface HclShape {
  readonly blocks: ReadonlySet<string>;
  readonly attributes: ReadonlySet<string>;
}

/** The decoded configuration of each type in a list of specs, by type name: `{ shell: ShellConfig, ... }`. */
export type ConfigsOf<L extends readonly ComponentSpec<string, Config>[]> = {
  [S in L[number] as S['type']]: ReturnType<S['decode']>;
};

export interface ComponentDefinition {
  readonly type: string;
  readonly kind: ComponentKind;
  readonly shape: z.ZodRawShape;
  readonly schema: z.ZodType;
  /** Keys Packer removed; JSON templates get Packer's "please call packer fix" message. */
  readonly removedKeys?: readonly string[];
  readonly rules?: (config: Config, ctx: ValidateContext) => Finding[];
  /** Keys consumed before the component sees its configuration, when not the kind's (data sources have none). */
  readonly metaKeys?: readonly string[];
}

/** Keys Packer's template layer consumes before the component sees its configuration. */
const META_KEYS: Record<ComponentKind, readonly string[]> = {
  builder: ['type', 'name'],
  provisioner: ['type', 'name', 'only', 'except', 'override', 'pause_before', 'max_retries', 'timeout'],
  'post-processor': ['type', 'name', 'only', 'except', 'keep_input_artifact'],
};

/** Packer injects these into every component configuration (`packer_build_name` ...); templates may set them. */
const PACKER_KEYS = [
  'packer_build_name',
  'packer_builder_type',
  'packer_core_version',
  'packer_debug',
  'packer_force',
  'packer_on_error',
  'packer_user_variables',
  'packer_sensitive_variables',
];

export function unknownKeyDiagnostic(
  key: string,
  candidates: readonly string[],
  format: TemplateFormat,
  range: SourceRange | undefined,
): Diagnostic {
  const hint = didYouMean(key, candidates);
  if (format === 'hcl') {
    return error(
      'Unsupported argument',
      `An argument named "${key}" is not expected here.${hint ? ` ${hint}` : ''}`,
      range,
    );
  }
  return error(`Unknown configuration key: "${key}"`, hint, range);
}

export function removedKeyDiagnostic(key: string, format: TemplateFormat, range: SourceRange | undefined): Diagnostic {
  if (format === 'hcl') {
    // HCL has no `packer fix`: the attribute is simply not part of the schema any more.
    return error('Unsupported argument', `An argument named "${key}" is not expected here.`, range);
  }
  return error(
    `Deprecated configuration key: '${key}'. Please call \`packer fix\` against your template to update your template to be compatible with the current version of Packer. Visit https://www.packer.io/docs/commands/fix/ to learn more.`,
    undefined,
    range,
  );
}

/**
 * The one place a template's format picks its decoding rule: HCL converts every known option to its HCL2 type by
 * cty's rules first (strict; what does not convert is a problem), legacy JSON hands the values as written to the
 * field kinds, which decode them as mapstructure does (weak). Both then meet the same zod schema.
 */
function decodeByFormat(def: ComponentDefinition, known: Config, format: TemplateFormat): HclDecoded {
  return format === 'hcl' ? decodeHcl(def.shape, known) : { config: known, problems: [] };
}

export function validateComponent(
  def: ComponentDefinition,
  config: Config,
  keyRanges: KeyRanges | undefined,
  ctx: ValidateContext,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const known = Object.keys(def.shape);
  const meta = new Set([...(def.metaKeys ?? META_KEYS[def.kind]), ...PACKER_KEYS]);
  const removed = new Set(def.removedKeys ?? []);
  const checked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const range = keyRanges?.[key] ?? ctx.range;
    if (meta.has(key)) continue;
    if (removed.has(key)) out.push(removedKeyDiagnostic(key, ctx.format, range));
    else if (!Object.hasOwn(def.shape, key)) out.push(unknownKeyDiagnostic(key, known, ctx.format, range));
    else checked[key] = value;
  }
  // What HCL's conversion refuses is reported once, in hcldec's words, and kept away from the schema.
  const decoded = decodeByFormat(def, checked, ctx.format);
  for (const p of decoded.problems) {
    out.push(error('Incorrect attribute value type', hclProblemDetail(p), keyRanges?.[p.key] ?? ctx.range));
  }
  const parsed = def.schema.safeParse(decoded.config);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const top = typeof issue.path[0] === 'string' ? issue.path[0] : undefined;
      const range = (top !== undefined ? keyRanges?.[top] : undefined) ?? ctx.range;
      out.push(...describeIssue(issue, checked, ctx.format, range));
    }
  }
  // HCL converts the body before the component's Prepare runs: a body whose values do not convert is not
  // checked further (Packer stops there too).
  if (decoded.problems.length > 0) return out;
  for (const finding of def.rules?.({ ...config, ...decoded.config }, ctx) ?? []) {
    const range = (finding.key !== undefined ? keyRanges?.[finding.key] : undefined) ?? ctx.range;
    out.push(
      finding.severity === 'warning'
        ? warning(finding.message, finding.detail, range)
        : error(finding.message, finding.detail, range),
    );
  }
  return out;
}

/**
 * Decodes a validated configuration once, by the same rules that validated it (HCL's conversion first for HCL): `encrypt_boot = "t"` is
 * stored as `true`, `"40960"` for an int as 40960, `"a,b"` for a list as two items. Keys the schema does not know
 * (Packer's own, `type`, ...) are kept as written; a configuration that does not validate is returned unchanged
 * (the validator reported it and no plan is made from it).
 */
export function decodeComponent(def: ComponentDefinition, config: Config, format: TemplateFormat): Config {
  const known: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) if (Object.hasOwn(def.shape, key)) known[key] = value;
  const parsed = def.schema.safeParse(decodeByFormat(def, known, format).config);
  if (!parsed.success) return config;
  return { ...config, ...(settleUnknowns(parsed.data) as Config) };
}

/**
 * UnknownValues become the string they are stored as (`<unknown: source>`): the decoded configuration's type
 * says a run-time value is a string, and that holds for the plan in memory as well as for plan.json.
 */
function settleUnknowns(value: unknown): unknown {
  if (isUnknown(value)) return value.toJSON();
  if (Array.isArray(value)) return value.map(settleUnknowns);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, settleUnknowns(v)]));
  }
  return value;
}
