/**
 * Lineage: which Kiln artifact an artifact was built from, and whether that parent has since been superseded.
 * The registry finds the candidate parent by the source's key (an AMI id or a digest, artifact.ts imageKeysOf);
 * these functions decide over the records they are given.
 */
import { type Artifact, imageKeysOf, sourceKeyOf } from './artifact.ts';
import { RegistryError } from './errors.ts';

/**
 * The artifact with its parent set when `candidate` (the record found under the source's key) really produced
 * the source; unchanged when there is no candidate. A candidate that does not hold the source is refused: the
 * lookup and the record disagree, and recording a wrong ancestor is worse than none.
 */
export function linkParent(artifact: Artifact, candidate: Artifact | undefined): Artifact {
  const { parent: _dropped, ...rest } = artifact;
  if (!candidate || !artifact.source) return rest;
  const key = sourceKeyOf(artifact.source);
  if (key === undefined || !imageKeysOf(candidate.content).includes(key)) {
    throw new RegistryError(
      'InvalidArtifact',
      `artifact ${candidate.artifactId} does not contain ${key ?? 'an unpinned image'}, the source of ${artifact.artifactId}`,
    );
  }
  if (candidate.artifactId === artifact.artifactId) {
    throw new RegistryError('InvalidArtifact', `artifact ${artifact.artifactId} cannot be its own parent`);
  }
  return {
    ...rest,
    parent: { artifactId: candidate.artifactId, template: candidate.template, build: candidate.build },
  };
}

/** Newest first: by creation time, then by id so equal times still order the same way everywhere. */
export function byNewest(a: Artifact, b: Artifact): number {
  return b.createdAt.localeCompare(a.createdAt) || b.artifactId.localeCompare(a.artifactId);
}

/** The newest version of a template's build among `artifacts` (which may mix builds). */
export function newestVersion(artifacts: readonly Artifact[], template: string, build: string): Artifact | undefined {
  return artifacts.filter((a) => a.template === template && a.build === build).sort(byNewest)[0];
}

/**
 * Outdated: the parent's template and build have produced a newer version than the parent, so rebuilding this
 * artifact would start from a newer source. `parentVersions` are the artifacts of the parent's template and build
 * (records of other builds are ignored). A parent no longer among them (lifecycle removed it, and lifecycle
 * removes only older versions) counts as superseded when any version remains. An artifact without a Kiln
 * parent is never outdated by this rule.
 */
export function isOutdated(artifact: Artifact, parentVersions: readonly Artifact[]): boolean {
  const parent = artifact.parent;
  if (!parent) return false;
  const versions = parentVersions.filter((v) => v.template === parent.template && v.build === parent.build);
  const recorded = versions.find((v) => v.artifactId === parent.artifactId);
  if (!recorded) return versions.length > 0;
  return versions.some((v) => byNewest(v, recorded) < 0);
}
