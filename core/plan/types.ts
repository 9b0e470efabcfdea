/**
 * BuildPlan: what a template resolves to, one entry per build, serializable and small enough for a Step
 * Functions payload (256 KB) once large content is replaced by references. The CLI prints it, PrepareBuild
 * stores it in S3 and the stages read their entry from there.
 */
import type { BuildSummary, Driver } from '../builders/driver.ts';
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

export interface PlannedProvisioner {
  readonly index: number;
  readonly type: string;
  readonly name?: string;
  /** Configuration with scripts/files replaced by FileRef paths (content lives in S3). */
  readonly config: Config;
  readonly files: readonly FileRef[];
  /** Seconds to wait before running (`pause_before`, parsed once at plan time). */
  readonly pauseBeforeSeconds?: number;
  readonly maxRetries: number;
  /** Seconds; undefined = Packer's default (none for shell). */
  readonly timeoutSeconds?: number;
}

export interface PlannedPostProcessor {
  readonly type: string;
  readonly name?: string;
  readonly config: Config;
  readonly keepInputArtifact: boolean;
}

export interface PlannedBuild {
  readonly name: string;
  readonly builderType: string;
  readonly driver: Driver;
  readonly config: Config;
  readonly provisioners: readonly PlannedProvisioner[];
  readonly errorCleanupProvisioner?: PlannedProvisioner;
  readonly postProcessors: readonly (readonly PlannedPostProcessor[])[];
  readonly summary: BuildSummary;
  /** JSON pointers (RFC 6901, from the build entry) to values that came from sensitive inputs. */
  readonly sensitivePaths: readonly string[];
}

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
