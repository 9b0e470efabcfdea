/**
 * The normalized template: what both front ends (legacy JSON and HCL2) produce after parsing and evaluation,
 * and what validation, planning, the CLI, the Lambdas and the agent consume. Values are plain JSON data except
 * for `UnknownValue`, which stands for something only known at run time (data sources offline, `build.*`).
 */
import type { Confinement } from '../files/access.ts';
import type { DeploymentAllowances } from './deployment.ts';
import type { Diagnostic, SourceRange } from './diagnostics.ts';
import type { TemplateLimits } from './limits.ts';

export type TemplateFormat = 'json' | 'hcl';

/** A value not known while validating offline (data source result, secret, builder-generated data). */
export class UnknownValue {
  constructor(
    /** What it stands for, e.g. `data.amazon-ami.ubuntu.id` or `build.ID`. */
    readonly source: string,
  ) {}
  toJSON(): string {
    return `<unknown: ${this.source}>`;
  }
}

export function isUnknown(value: unknown): value is UnknownValue {
  return value instanceof UnknownValue;
}

/** Builder, provisioner and post-processor configuration after evaluation. */
export type Config = Record<string, unknown>;

/** Where each top-level key of a component's configuration was written, for diagnostics on that key. */
export type KeyRanges = Record<string, SourceRange>;

export interface VariableInfo {
  readonly name: string;
  /** HCL type constraint as written (`string`, `list(string)`), absent for JSON. */
  readonly type?: string;
  readonly description?: string;
  readonly sensitive: boolean;
  /** True when the template gives no default (JSON `null`, HCL no `default`). */
  readonly required: boolean;
  /** Final value after precedence; absent if unset. Sensitive values are still present here: redact on output. */
  readonly value?: unknown;
  /** Which input set the value: `default`, `env` (PKR_VAR_), `var-file:<path>`, `var`. */
  readonly valueSource?: string;
  readonly range?: SourceRange;
}

export interface ProvisionerDef {
  readonly type: string;
  /** HCL `name` label or attribute, JSON `name` key. */
  readonly name?: string;
  readonly config: Config;
  readonly keyRanges?: KeyRanges;
  /** Packer duration strings, as written (`10s`, `5m`). */
  readonly pauseBefore?: string;
  readonly maxRetries?: number;
  readonly timeout?: string;
  readonly range?: SourceRange;
}

export interface PostProcessorDef {
  readonly type: string;
  readonly name?: string;
  readonly config: Config;
  readonly keyRanges?: KeyRanges;
  readonly keepInputArtifact?: boolean;
  readonly range?: SourceRange;
}

/** One build, i.e. one source/builder with everything that applies to it, after only/except/override. */
export interface BuildDef {
  /** Packer's name for the build: JSON `name` (default: type); HCL `type.name` or `build.type.name`. */
  readonly name: string;
  readonly builderType: string;
  /** HCL source name (`ubuntu` in `source "amazon-ebs" "ubuntu"`); JSON: the builder name. */
  readonly sourceName: string;
  /** HCL build block name when given. */
  readonly buildBlockName?: string;
  readonly config: Config;
  readonly keyRanges?: KeyRanges;
  readonly range?: SourceRange;
  /** HCL: the `build` block that declares this build (which file of a folder holds it). */
  readonly buildRange?: SourceRange;
  /** In file order, filtered by each provisioner's only/except, with overrides merged. */
  readonly provisioners: readonly ProvisionerDef[];
  readonly errorCleanupProvisioner?: ProvisionerDef;
  /** Each inner array is one chain; a lone post-processor is a chain of one. */
  readonly postProcessors: readonly (readonly PostProcessorDef[])[];
}

export interface RequiredPlugin {
  readonly name: string;
  readonly source?: string;
  readonly version?: string;
  readonly range?: SourceRange;
}

export interface Template {
  readonly format: TemplateFormat;
  /** The path given by the user (file or directory). */
  readonly path: string;
  /** Directory of the template (`template_dir`, `path.root`). */
  readonly dir: string;
  /** Every file read, in order. */
  readonly files: readonly string[];
  readonly description?: string;
  readonly minPackerVersion?: string;
  readonly requiredVersion?: string;
  readonly requiredPlugins: readonly RequiredPlugin[];
  readonly variables: readonly VariableInfo[];
  /** Values of sensitive variables (and resolved secrets) to redact from every output and log. */
  readonly sensitiveValues: readonly string[];
  /** Builds in template order, after the caller's only/except. */
  readonly builds: readonly BuildDef[];
}

/** Resolves things that need AWS. Offline validation passes none: the values become `UnknownValue`. */
export interface Resolvers {
  /** `amazon-ami` data source / `source_ami_filter`: returns the AMI id (most recent per filters). */
  readonly amazonAmi?: (args: Config) => Promise<Config>;
  /** `amazon-parameterstore` data source and `aws_parameterstore` legacy function. */
  readonly parameterStore?: (name: string, withDecryption: boolean) => Promise<string>;
  /** `amazon-secretsmanager` data source and `aws_secretsmanager` legacy function. */
  readonly secretsManager?: (secretId: string, key?: string, versionStage?: string) => Promise<string>;
}

export interface LoadOptions {
  /** `-var name=value`, in the order given (later wins). */
  readonly vars?: readonly (readonly [string, string])[];
  /** `-var-file` paths, in order. */
  readonly varFiles?: readonly string[];
  /** Environment (PKR_VAR_*, env function). Defaults to an empty environment, never process.env implicitly. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Working directory for relative paths and `path.cwd`. */
  readonly cwd?: string;
  /** Build name patterns (`-only`, `-except`); globs as in Packer. */
  readonly only?: readonly string[];
  readonly except?: readonly string[];
  readonly resolvers?: Resolvers;
  /** Fixed clock for timestamp/isotime/uuid-free reproducibility in tests and plans. */
  readonly now?: Date;
  /** Stop after syntax checks (`validate -syntax-only`). */
  readonly syntaxOnly?: boolean;
  /** Reads a file; defaults to node:fs (regular files only, bounded). Lets the Lambda read a bundle from memory. */
  readonly readFile?: (path: string) => string | undefined;
  /**
   * The pipeline's rule (PrepareBuild, `kiln validate|plan --pipeline`): every path the template names (var
   * files, file functions, scripts and uploads) must resolve inside `root` after following symlinks.
   */
  readonly confinement?: Confinement;
  /** What the deployment lets templates use (KMS keys, deployment.ts); PrepareBuild passes it. */
  readonly deployment?: DeploymentAllowances;
  readonly packerVersion?: string;
  /** Overrides of the resource budgets (limits.ts); the pipeline passes none and gets the defaults. */
  readonly limits?: Partial<TemplateLimits>;
}

export interface LoadResult {
  /** Present unless a syntax error prevented building the model. */
  readonly template?: Template;
  readonly diagnostics: readonly Diagnostic[];
  /** Source text of every file read, for printing diagnostics. */
  readonly sources: ReadonlyMap<string, string>;
  /** Budget used by the load (limits.ts): evaluation steps and wall time. */
  readonly usage?: { readonly steps: number; readonly ms: number };
}

/** The load a budget stop ends with: its one diagnostic (limits.ts `loadWithinBudget`). */
export const stoppedLoad = (diagnostic: Diagnostic): LoadResult => ({ diagnostics: [diagnostic], sources: new Map() });

/** The Packer version Kiln's semantics follow; reported by `packer_version` and `packer.version`. */
export const PACKER_COMPAT_VERSION = '1.16.0';
