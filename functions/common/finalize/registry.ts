/**
 * Finalize's part of the image registry: each succeeded build that made AMIs is recorded as an artifact (AMI ids
 * per region with their snapshots, the source AMI for lineage) and promoted to the `latest` channel of its
 * template's build, which publishes `/kiln/<template>/<build>/latest`. Retry-safe: the artifact id derives from
 * execution and build (a retry rewrites the same items), and the channel is only promoted while it has never held
 * that artifact before (a retry after a later build moved `latest` does not move it back).
 */

import type { EmitResult } from '../../../aws/events-emitter.ts';
import { getChannel, promoteChannel, putArtifact, type RegistryContext } from '../../../aws/image-registry-store.ts';
import { type Artifact, artifactIdFor } from '../../../core/image-registry/artifact.ts';
import { type ChannelRef, type ChannelState, LATEST_CHANNEL } from '../../../core/image-registry/channels.ts';
import type { ChannelParameter } from '../../../core/image-registry/parameter.ts';
import type { BuildState } from '../../lib/build-state.ts';

/** A docker build's base image as written, with its digest when PrepareBuild resolved one. */
export interface BaseImage {
  readonly reference: string;
  readonly digest?: string;
}

export interface RegisteredArtifact {
  readonly artifactId: string;
  /** The `latest` parameter's name (one name, published in each region of the AMI). */
  readonly channelParameter?: string;
  readonly parameters: readonly ChannelParameter[];
  /** Delivery of the `Kiln Channel Updated` event when `latest` moved (the context's sink). */
  readonly events?: EmitResult;
}

/**
 * The registry artifact of a succeeded build, or none when it made nothing to record (skip_create_ami, a docker
 * build that pushed nothing to ECR, an agent build without files such as `null`). A docker artifact is its first
 * pushed repository, by digest; `baseImage` is the docker builder's `image` with the digest PrepareBuild resolved
 * for it (its lineage: a digest finds the Kiln artifact that built the base image). An agent artifact lists the files packer reported: `s3://<artifactsBucket>/<key>`
 * for those the agent uploaded, `agent://<agent id>/<name>` for those left on the agent's host.
 */
export function artifactOf(
  template: string,
  state: BuildState,
  createdAt: string,
  baseImage?: BaseImage,
  artifactsBucket?: string,
): Artifact | undefined {
  const made = contentOf(state, baseImage, artifactsBucket);
  if (!made) return undefined;
  return {
    artifactId: artifactIdFor(state.buildId, state.name),
    template,
    build: state.name,
    buildId: state.buildId,
    createdAt,
    ...made,
  };
}

/** What the build made and where it started from, per driver; none when it made nothing to record. */
function contentOf(
  state: BuildState,
  baseImage?: BaseImage,
  artifactsBucket?: string,
): Pick<Artifact, 'content' | 'source'> | undefined {
  if (state.driver === 'agent') {
    const job = state.agent;
    if (!job) return undefined;
    // Packer may report one file under several artifacts (a post-processor passing the builder's on): once each.
    const byLocation = new Map<string, { name: string; location: string }>();
    for (const f of job.artifacts.flatMap((a) => a.files)) {
      const location =
        f.key && artifactsBucket ? `s3://${artifactsBucket}/${f.key}` : `agent://${job.agentId}/${f.name}`;
      if (!byLocation.has(location)) byLocation.set(location, { name: f.name, location });
    }
    const files = [...byLocation.values()];
    return files.length > 0 ? { content: { kind: 'agent', files } } : undefined;
  }
  if (state.driver === 'ec2-docker') {
    const first = state.pushed[0];
    if (!first) return undefined;
    const imageUri = `${first.repository}:${first.tags[0] ?? state.buildId}`;
    return {
      content: { kind: 'container-image', imageUri, digest: first.digest },
      ...(baseImage
        ? {
            source: {
              kind: 'image',
              reference: baseImage.reference,
              ...(baseImage.digest ? { digest: baseImage.digest } : {}),
            },
          }
        : {}),
    };
  }
  if (state.driver !== 'ec2-ami' || state.images.length === 0) return undefined;
  return {
    content: {
      kind: 'ami',
      images: state.images.map((i) => ({ region: i.region, imageId: i.imageId, snapshotIds: i.snapshotIds })),
    },
    ...(state.sourceImageId && state.region
      ? { source: { kind: 'ami', region: state.region, imageId: state.sourceImageId } }
      : {}),
  };
}

/**
 * Whether the pipeline should promote `artifactId` to the channel: not when the channel already moved past it
 * (it is among the earlier assignments), which only a retried Finalize sees. Promoting the current artifact again
 * is a no-op that publishes the parameter again (a retry after the channel write but before the parameter).
 */
export function shouldPromote(state: ChannelState, artifactId: string): boolean {
  return !state.previous.includes(artifactId);
}

export async function registerBuild(
  ctx: RegistryContext,
  template: string,
  state: BuildState,
  createdAt: string,
  baseImage?: BaseImage,
  artifactsBucket?: string,
): Promise<RegisteredArtifact | undefined> {
  const artifact = artifactOf(template, state, createdAt, baseImage, artifactsBucket);
  if (!artifact) return undefined;
  const stored = await putArtifact(ctx, artifact);
  const ref: ChannelRef = { template, build: artifact.build, channel: LATEST_CHANNEL };
  // A retried Finalize may find its artifact revoked (or retired) meanwhile: `latest` must not take it, and the
  // build itself succeeded, so it is not promoted rather than failed (promote would refuse it: RegistryError).
  if (
    stored.revoked ||
    stored.retirement?.retiredAt ||
    !shouldPromote(await getChannel(ctx, ref), artifact.artifactId)
  ) {
    return { artifactId: artifact.artifactId, parameters: [] };
  }
  const update = await promoteChannel(ctx, ref, artifact.artifactId);
  return {
    artifactId: artifact.artifactId,
    ...(update.parameters[0] ? { channelParameter: update.parameters[0].name } : {}),
    parameters: update.parameters,
    ...(update.events ? { events: update.events } : {}),
  };
}
