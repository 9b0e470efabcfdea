/**
 * Packer-compatible manifest (the `manifest` post-processor's JSON): Kiln writes the same shape so tools that
 * read Packer manifests read Kiln's. Pure: the caller reads and writes the file.
 */
import { InputInvalidError } from '../errors.ts';

export interface ManifestFile {
  readonly name: string;
  readonly size: number;
  /**
   * Kiln's addition for agent builds run with `kiln-agent --upload-artifacts`: the artifacts bucket key the file
   * was uploaded to (readers of Packer manifests ignore unknown keys).
   */
  readonly kiln_uploaded?: string;
}

export interface ManifestBuild {
  readonly name: string;
  readonly builder_type: string;
  /** Unix seconds. */
  readonly build_time: number;
  /** Packer writes `null` when the artifact has no files (AMIs). */
  readonly files: readonly ManifestFile[] | null;
  readonly artifact_id: string;
  readonly packer_run_uuid: string;
  /** Packer writes `null` when no custom_data is configured. */
  readonly custom_data: Readonly<Record<string, string>> | null;
  /**
   * Kiln's addition for docker builds (readers of Packer manifests ignore unknown keys): each image pushed to a
   * registry, by repository, with its tags and the digest the registry reported.
   */
  readonly kiln_pushed_images?: readonly PushedImage[];
}

export interface PushedImage {
  readonly repository: string;
  readonly tags: readonly string[];
  readonly digest: string;
}

export interface Manifest {
  readonly builds: readonly ManifestBuild[];
  readonly last_run_uuid: string;
}

/** Packer's amazon artifact id: `region:ami-…` pairs sorted, comma-joined. */
export function amiArtifactId(amis: Readonly<Record<string, string>>): string {
  return Object.entries(amis)
    .map(([region, ami]) => `${region}:${ami}`)
    .sort()
    .join(',');
}

export interface BuildResult {
  readonly name: string;
  readonly builderType: string;
  readonly buildTime: Date;
  readonly runUuid: string;
  /** AMIs per region (ec2-ami); the artifact id is derived from them. */
  readonly amis?: Readonly<Record<string, string>>;
  /** Any other artifact id (docker image id or `repository:tag`, agent-reported id). */
  readonly artifactId?: string;
  readonly files?: readonly ManifestFile[];
  readonly customData?: Readonly<Record<string, string>>;
  /** Images a docker build pushed (`kiln_pushed_images`). */
  readonly pushed?: readonly PushedImage[];
  /** The manifest post-processor's `strip_path`: keep only file base names. */
  readonly stripPath?: boolean;
}

export function manifestBuild(result: BuildResult): ManifestBuild {
  const files = result.files?.map((f) => ({
    name: result.stripPath ? (f.name.split(/[\\/]/).pop() ?? f.name) : f.name,
    size: f.size,
    ...(f.kiln_uploaded ? { kiln_uploaded: f.kiln_uploaded } : {}),
  }));
  return {
    name: result.name,
    builder_type: result.builderType,
    build_time: Math.floor(result.buildTime.getTime() / 1000),
    files: files && files.length > 0 ? files : null,
    artifact_id: result.amis ? amiArtifactId(result.amis) : (result.artifactId ?? ''),
    packer_run_uuid: result.runUuid,
    custom_data: result.customData && Object.keys(result.customData).length > 0 ? { ...result.customData } : null,
    ...(result.pushed && result.pushed.length > 0
      ? {
          kiln_pushed_images: result.pushed.map((p) => ({
            repository: p.repository,
            tags: [...p.tags],
            digest: p.digest,
          })),
        }
      : {}),
  };
}

/**
 * Appends this run's builds to an existing manifest (as Packer's manifest post-processor does when the output
 * file exists) and points last_run_uuid at this run. Never mutates `existing`.
 */
export function buildManifest(results: readonly BuildResult[], runUuid: string, existing?: Manifest): Manifest {
  return {
    builds: [...(existing?.builds ?? []), ...results.map(manifestBuild)],
    last_run_uuid: runUuid,
  };
}

/** Reads a manifest file's text; a missing or empty file is no manifest, anything malformed is an error. */
export function parseManifest(text: string | undefined): Manifest | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const data: unknown = JSON.parse(text);
  if (!data || typeof data !== 'object' || !Array.isArray((data as { builds?: unknown }).builds)) {
    throw new InputInvalidError('manifest: expected an object with a "builds" array');
  }
  return data as Manifest;
}
