/**
 * BuildPlan: what a template resolves to, one entry per build, serializable and small enough for a Step
 * Functions payload (256 KB) once large content is replaced by references. The CLI prints it, PrepareBuild
 * stores it in S3 and the stages read their entry from there.
 */
import type { AmazonEbsConfig, AmiFacts } from '../builders/amazon-ebs.ts';
import type { BuildSummary, Driver } from '../builders/driver.ts';
import type { PostProcessorConfigs, PostProcessorType } from '../postprocessors/registry.ts';
import type { ProvisionerConfigs, ProvisionerType } from '../provisioners/registry.ts';
import type { Diagnostic } from '../template/diagnostics.ts';
import type { Config } from '../template/model.ts';

/** A local file the build needs (script, file provisioner source), by content hash; staged in S3 by PrepareBuild. */
export interface FileRef {
  /** Path as written in the template, resolved against the template directory. */
  readonly path: string;
  /** Path relative to the template directory (the key suffix under the build's S3 prefix). */
  readonly relativePath: string;
  readonly sha256?: string;
  readonly size?: number;
  /** Directory sources (file provisioner with a trailing-slash directory). */
  readonly directory?: boolean;
}

interface ProvisionerEntry<T extends string, C> {
  readonly index: number;
  readonly type: T;
  readonly name?: string;
  /**
   * Configuration decoded at plan time (core/schema/decode.ts), scripts/files replaced by FileRef paths
   * (content lives in S3). Typed by `type` for the types Kiln has a schema for; narrow with `provisionerOf`.
   */
  readonly config: C;
  readonly files: readonly FileRef[];
  /** Seconds to wait before running (`pause_before`, parsed once at plan time). */
  readonly pauseBeforeSeconds?: number;
  readonly maxRetries: number;
  /** Seconds; undefined = Packer's default (none for shell). */
  readonly timeoutSeconds?: number;
}

/** A planned provisioner of a type Kiln has a schema for, its configuration typed. */
export type PlannedProvisionerOf<T extends ProvisionerType> = ProvisionerEntry<T, ProvisionerConfigs[T]>;

/** Any planned provisioner: a typed one, or one Kiln has no schema for (agent only), configuration as written. */
export type PlannedProvisioner =
  | { [T in ProvisionerType]: PlannedProvisionerOf<T> }[ProvisionerType]
  | ProvisionerEntry<string, Config>;

interface PostProcessorEntry<T extends string, C> {
  readonly type: T;
  readonly name?: string;
  /** Configuration decoded at plan time, typed by `type` for the types Kiln has a schema for. */
  readonly config: C;
  /** `keep_input_artifact` as written; absent: the post-processor's own default applies (as in Packer). */
  readonly keepInputArtifact?: boolean;
}

export type PlannedPostProcessorOf<T extends PostProcessorType> = PostProcessorEntry<T, PostProcessorConfigs[T]>;

export type PlannedPostProcessor =
  | { [T in PostProcessorType]: PlannedPostProcessorOf<T> }[PostProcessorType]
  | PostProcessorEntry<string, Config>;

interface BuildEntry {
  readonly name: string;
  readonly provisioners: readonly PlannedProvisioner[];
  readonly errorCleanupProvisioner?: PlannedProvisioner;
  readonly postProcessors: readonly (readonly PlannedPostProcessor[])[];
  readonly summary: BuildSummary;
  /** JSON pointers (RFC 6901, from the build entry) to values that came from sensitive inputs. */
  readonly sensitivePaths: readonly string[];
}

/** An amazon-ebs build (driver ec2-ami): its configuration typed, and the facts its stages need. */
export interface PlannedAmiBuild extends BuildEntry {
  readonly builderType: 'amazon-ebs';
  readonly driver: 'ec2-ami';
  /** Decoded at plan time (core/schema/decode.ts); the stages read these typed values. */
  readonly config: AmazonEbsConfig;
  /** Derived from the configuration once, at plan time (region, AMI name, copy regions). */
  readonly ami: AmiFacts;
}

/**
 * The build context PrepareBuild staged for an ec2-docker build: core/docker/context.ts's files of the template's
 * folder as one deterministic tar.gz (same files, same bytes). Absent: nothing to copy in (no files, or off).
 */
export interface StagedBuildContext {
  /** Key in the artifacts bucket, under the build's staged files prefix. */
  readonly key: string;
  /** Files in the archive. */
  readonly files: number;
  /** Size of the tar.gz. */
  readonly bytes: number;
  /** SHA-256 of the tar.gz, hex. */
  readonly sha256: string;
}

/** A build of another driver: its configuration decoded, typed as a record until its driver's stages exist. */
export interface PlannedOtherBuild extends BuildEntry {
  readonly builderType: string;
  readonly driver: Exclude<Driver, 'ec2-ami'>;
  readonly config: Config;
  /** ec2-docker only, set by PrepareBuild (the planner leaves it out): what the prepare step copies in. */
  readonly buildContext?: StagedBuildContext;
  /** agent only, set by PrepareBuild: the staged template and variables the agent's packer runs on. */
  readonly agentJob?: StagedAgentJob;
}

/** An agent build's staged inputs (keys in the artifacts bucket); the gateway contract's job document wraps it. */
export interface StagedAgentJob {
  /** The template inside the bundle: its file, or `.` for an HCL2 folder. */
  readonly templatePath: string;
  /** `packer build -only=` this. */
  readonly only: string;
  readonly bundle: { readonly key: string; readonly sha256: string; readonly bytes: number };
  /** The variables document (under `secrets/`), when the request gave variables. */
  readonly variablesKey?: string;
}

/** One build of the plan; `driver` tells which (narrow with `amiBuild`). */
export type PlannedBuild = PlannedAmiBuild | PlannedOtherBuild;

export interface BuildPlan {
  readonly version: 1;
  readonly format: 'json' | 'hcl';
  readonly templatePath: string;
  readonly builds: readonly PlannedBuild[];
  /** All files any build needs, deduplicated. */
  readonly files: readonly FileRef[];
  readonly warnings: readonly Diagnostic[];
  /** Packer's `packer_run_uuid` for this run, when the caller fixed one (manifest, tags). */
  readonly runUuid?: string;
}
