/** Artifact records for the registry's tests: valid by default, each field overridable. */
import { type Artifact, artifactIdFor } from '../../../core/image-registry/artifact.ts';

let n = 0;
/** Each fixture is one second newer than the one before, so default records order as they were made. */
const createdAt = (base: string) => new Date(Date.parse(base) + n * 1000).toISOString();
export function amiArtifact(overrides: Partial<Artifact> & { images?: [string, string][] } = {}): Artifact {
  n += 1;
  const { images, ...rest } = overrides;
  const buildId = rest.buildId ?? `kb-${String(n).padStart(4, '0')}`;
  const build = rest.build ?? 'amazon-ebs.base';
  return {
    artifactId: artifactIdFor(buildId, build),
    template: 'web',
    build,
    buildId,
    createdAt: createdAt('2026-01-01T00:00:00.000Z'),
    content: {
      kind: 'ami',
      images: (images ?? [['us-east-1', `ami-${n.toString(16).padStart(8, '0')}`]]).map(([region, imageId]) => ({
        region,
        imageId,
        snapshotIds: [`snap-${n.toString(16).padStart(8, '0')}`],
      })),
    },
    ...rest,
  };
}

export function imageArtifact(overrides: Partial<Artifact> = {}): Artifact {
  n += 1;
  const buildId = overrides.buildId ?? `kb-${String(n).padStart(4, '0')}`;
  const build = overrides.build ?? 'docker.app';
  return {
    artifactId: artifactIdFor(buildId, build),
    template: 'app',
    build,
    buildId,
    createdAt: createdAt('2026-01-02T00:00:00.000Z'),
    content: {
      kind: 'container-image',
      imageUri: '111122223333.dkr.ecr.us-east-1.amazonaws.com/app:1.2',
      digest: `sha256:${n.toString(16).padStart(64, '0')}`,
    },
    ...overrides,
  };
}
