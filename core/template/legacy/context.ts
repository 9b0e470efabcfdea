/** What a `{{ }}` template can see while it is rendered (Packer's interpolate.Context, plus Kiln's modes). */

/** A secret reference found in a template: `aws_secretsmanager` (with optional key) or `aws_secretsmanager_raw`. */
export interface SecretRequest {
  readonly secretId: string;
  readonly key?: string;
  /** `aws_secretsmanager_raw`: the secret string as stored, never a key lookup. */
  readonly raw: boolean;
}

export function secretRequestKey(r: SecretRequest): string {
  return JSON.stringify([r.raw ? 'raw' : 'value', r.secretId, r.key ?? null]);
}

export interface LegacyContext {
  /**
   * `offline`: validate without AWS; secrets stay as written and are reported as unknown.
   * `pipeline`: secrets come from `secrets` (filled by `renderLegacyAsync` through a resolver).
   */
  readonly mode: 'offline' | 'pipeline';
  readonly userVariables?: Readonly<Record<string, string>>;
  /** User variables whose value is only known at run time (e.g. a secret while offline): `user` yields unknown. */
  readonly unknownUserVariables?: ReadonlySet<string>;
  /**
   * True only while rendering the `variables` section (Packer's EnableEnv): enables `env`, secrets,
   * and makes `user` of an unset variable an error (Packer retries those in dependency order).
   */
  readonly inVariables?: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Absolute directory of the template (`template_dir`). */
  readonly templateDir?: string;
  /** Working directory (`pwd`). */
  readonly pwd?: string;
  readonly buildName?: string;
  readonly buildType?: string;
  /** The template's clock: every `timestamp`/`isotime`/`strftime` of one load uses the same instant. */
  readonly now?: Date;
  readonly uuid?: () => string;
  readonly packerVersion?: string;
  /** Component context data (`.Name`, `.Vars`, `.HTTPIP`...); fields not present stay as written. */
  readonly data?: Readonly<Record<string, unknown>>;
  /** Builder-generated data for `{{ build `ID` }}`; absent keys stay as written for run time. */
  readonly buildData?: Readonly<Record<string, string>>;
  /** Resolved secrets by `secretRequestKey` (pipeline mode). */
  readonly secrets?: ReadonlyMap<string, string>;
  /** Which `clean_resource_name` rules apply; defaults from `buildType` (googlecompute → gce, else amazon). */
  readonly cleanResourceNameRules?: 'amazon' | 'gce';
}

export interface LegacyRenderOk {
  readonly value: string;
  /** Things only known at run time that the result depends on (`aws_secretsmanager:<id>`, `user:<name>`). */
  readonly unknowns?: readonly string[];
  /** Secret values written into the result: the caller must redact them. */
  readonly sensitive?: readonly string[];
  /** Pipeline mode: secrets that were needed but not in `secrets` yet. */
  readonly pendingSecrets?: readonly SecretRequest[];
}

export interface LegacyRenderError {
  readonly error: string;
  /** 0-based offset in the rendered text. */
  readonly offset?: number;
}

export type LegacyRenderResult = LegacyRenderOk | LegacyRenderError;

export function isRenderError(r: LegacyRenderResult): r is LegacyRenderError {
  return 'error' in r;
}
