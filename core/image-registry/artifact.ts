/**
 * What a build produced, as the registry records it: AMIs per region (with their snapshots), a container image
 * (URI and digest) or agent artifacts, plus where the build started from (lineage.ts links a source to the Kiln
 * artifact that produced it). Pure data and checks; aws/image-registry-records.ts owns the DynamoDB form.
 */
import { createHash } from 'node:crypto';
import { RegistryError } from './errors.ts';

export interface AmiImage {
  readonly region: string;
  readonly imageId: string;
  readonly snapshotIds: readonly string[];
}

export type ArtifactContent =
  | { readonly kind: 'ami'; readonly images: readonly AmiImage[] }
  | { readonly kind: 'container-image'; readonly imageUri: string; readonly digest: string }
  | { readonly kind: 'agent'; readonly files: readonly { readonly name: string; readonly location: string }[] };

export type ArtifactKind = ArtifactContent['kind'];

/** What the build started from: a source AMI (resolved id) or a base image (reference, digest when known). */
export type ArtifactSource =
  | { readonly kind: 'ami'; readonly region: string; readonly imageId: string }
  | { readonly kind: 'image'; readonly reference: string; readonly digest?: string };

/** The Kiln artifact that produced this artifact's source. */
export interface ArtifactParent {
  readonly artifactId: string;
  readonly template: string;
  readonly build: string;
}

/** Who revoked an artifact, why and when (`kiln artifacts revoke`); `cascadedFrom` when an ancestor's revoke reached it. */
export interface ArtifactRevocation {
  readonly at: string;
  readonly by: string;
  readonly reason: string;
  readonly cascadedFrom?: string;
}

/**
 * Where lifecycle (lifecycle.ts) has taken an artifact: deprecated (its AMIs deprecated, deletion due after the
 * grace period), then retired (AMIs deregistered and snapshots deleted in every region, or its container image
 * deleted). A retired artifact stays in the registry as history; `note` says what was left and why.
 */
export interface ArtifactRetirement {
  readonly deprecatedAt: string;
  readonly retiredAt?: string;
  readonly note?: string;
}

export interface Artifact {
  readonly artifactId: string;
  /** The template's name in the registry (its key in the templates bucket, or a name the user gives it). */
  readonly template: string;
  /** The Packer build name (`amazon-ebs.ubuntu`). */
  readonly build: string;
  /** The execution that built it. */
  readonly buildId: string;
  /** ISO 8601; orders the versions of a template's build. */
  readonly createdAt: string;
  readonly content: ArtifactContent;
  readonly source?: ArtifactSource;
  readonly parent?: ArtifactParent;
  /** Set by revoke (revocation.ts); never by the pipeline, whose writes keep it (image-registry-store.ts putArtifact). */
  readonly revoked?: ArtifactRevocation;
  /** Set by the lifecycle function. */
  readonly retirement?: ArtifactRetirement;
}

/**
 * An artifact's id, derived from the execution and build name so that a retried write records the same artifact
 * instead of a second one. Short enough to type (`ka-` and 16 hex digits).
 */
export function artifactIdFor(buildId: string, build: string): string {
  return `ka-${createHash('sha256').update(`${buildId}\0${build}`).digest('hex').slice(0, 16)}`;
}

export const ARTIFACT_ID_PATTERN = /^ka-[0-9a-f]{16}$/;
const AMI_ID = /^ami-[0-9a-f]{8,17}$/;
const SNAPSHOT_ID = /^snap-[0-9a-f]{8,17}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** The problems that make a record unusable, as sentences; empty when it is sound. */
export function artifactProblems(a: Artifact): string[] {
  const problems: string[] = [];
  if (!ARTIFACT_ID_PATTERN.test(a.artifactId)) problems.push(`artifact id "${a.artifactId}" is not ka-<16 hex>`);
  if (a.template === '' || a.build === '') problems.push('template and build names must not be empty');
  if (Number.isNaN(Date.parse(a.createdAt))) problems.push(`createdAt "${a.createdAt}" is not a date`);
  const c = a.content;
  if (c.kind === 'ami') {
    if (c.images.length === 0) problems.push('an AMI artifact needs at least one image');
    const regions = new Set<string>();
    for (const image of c.images) {
      if (!REGION.test(image.region)) problems.push(`"${image.region}" is not a region`);
      if (regions.has(image.region)) problems.push(`two images in ${image.region}`);
      regions.add(image.region);
      if (!AMI_ID.test(image.imageId)) problems.push(`"${image.imageId}" is not an AMI id`);
      for (const s of image.snapshotIds) if (!SNAPSHOT_ID.test(s)) problems.push(`"${s}" is not a snapshot id`);
    }
  } else if (c.kind === 'container-image') {
    if (!DIGEST.test(c.digest)) problems.push(`"${c.digest}" is not a sha256 digest`);
    if (c.imageUri === '' || /\s/.test(c.imageUri)) problems.push(`"${c.imageUri}" is not an image URI`);
  } else if (c.files.length === 0) {
    problems.push('an agent artifact needs at least one file');
  }
  if (a.source?.kind === 'ami' && !AMI_ID.test(a.source.imageId)) {
    problems.push(`source "${a.source.imageId}" is not an AMI id`);
  }
  if (a.source?.kind === 'image' && a.source.digest !== undefined && !DIGEST.test(a.source.digest)) {
    problems.push(`source digest "${a.source.digest}" is not a sha256 digest`);
  }
  return problems;
}

export function assertArtifact(a: Artifact): Artifact {
  const problems = artifactProblems(a);
  if (problems.length > 0) {
    throw new RegistryError('InvalidArtifact', `artifact ${a.artifactId}: ${problems.join('; ')}`);
  }
  return a;
}

/**
 * The keys under which another build may name this artifact as its source: each AMI id, or the image digest.
 * Agent artifacts are nobody's source.
 */
export function imageKeysOf(content: ArtifactContent): string[] {
  if (content.kind === 'ami') return content.images.map((i) => i.imageId);
  if (content.kind === 'container-image') return [content.digest];
  return [];
}

/** The key a source is looked up by (an AMI id, or a base image's digest); none for an unpinned base image. */
export function sourceKeyOf(source: ArtifactSource): string | undefined {
  return source.kind === 'ami' ? source.imageId : source.digest;
}

/** One line for people: `ami us-east-1:ami-1, eu-west-1:ami-2`, `image repo@sha256:…`, `agent 2 files`. */
export function describeContent(content: ArtifactContent): string {
  if (content.kind === 'ami') return content.images.map((i) => `${i.region}:${i.imageId}`).join(', ');
  if (content.kind === 'container-image') return `${content.imageUri}@${content.digest}`;
  return content.files.map((f) => f.name).join(', ');
}
