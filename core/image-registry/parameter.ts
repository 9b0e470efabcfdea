/**
 * The SSM parameter a channel publishes to: `/kiln/<template>/<build>/<channel>`, holding the AMI id (data type
 * `aws:ec2:image`, so EC2 checks it and launch templates can `resolve:ssm:` it) in every region the artifact has
 * an image, or the pinned image reference (`repo@sha256:…`, text) for a container image in the registry's region.
 */
import type { Artifact } from './artifact.ts';
import type { ChannelRef } from './channels.ts';
import { assertName } from './names.ts';

export const PARAMETER_ROOT = '/kiln';

export type ParameterDataType = 'aws:ec2:image' | 'text';

export interface ChannelParameter {
  readonly region: string;
  readonly name: string;
  readonly value: string;
  readonly dataType: ParameterDataType;
}

/**
 * One path segment in SSM's characters (`a-zA-Z0-9_.-`): every other character, `/` included (a template key
 * `team/web.pkr.hcl` stays one level), becomes `-`. Lossy on purpose: `team/web` and `team-web` share a
 * parameter, which the registry's keys (exact names) do not.
 */
export function parameterSegment(name: string): string {
  const segment = name.replace(/[^A-Za-z0-9_.-]/g, '-');
  // "." and ".." would read as path steps to people, though SSM takes them.
  return /^\.+$/.test(segment) ? segment.replace(/\./g, '-') : segment;
}

/**
 * SSM's rules: characters `a-zA-Z0-9_.-/`, at most 15 levels and 1011 characters, no `aws`/`ssm` prefix. The
 * name has 4 levels under `/kiln`, and names.ts bounds template and build names at 256 characters and channels at
 * 64, so the length always fits.
 */
export function channelParameterName(ref: ChannelRef): string {
  assertName('template', ref.template);
  assertName('build', ref.build);
  assertName('channel', ref.channel);
  return [PARAMETER_ROOT, parameterSegment(ref.template), parameterSegment(ref.build), ref.channel].join('/');
}

/** `repo:tag` or `repo` plus a digest → `repo@digest`: the value pins the exact image, whatever the tag does. */
export function pinnedImageReference(imageUri: string, digest: string): string {
  const withoutDigest = imageUri.split('@')[0] as string;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  return `${colon < 0 ? withoutDigest : withoutDigest.slice(0, colon)}@${digest}`;
}

/** The parameters a channel holding `artifact` publishes; `homeRegion` is where non-AMI values go. */
export function channelParameters(ref: ChannelRef, artifact: Artifact, homeRegion: string): ChannelParameter[] {
  const name = channelParameterName(ref);
  const c = artifact.content;
  if (c.kind === 'ami') {
    return c.images.map((image) => ({ region: image.region, name, value: image.imageId, dataType: 'aws:ec2:image' }));
  }
  if (c.kind === 'container-image') {
    return [{ region: homeRegion, name, value: pinnedImageReference(c.imageUri, c.digest), dataType: 'text' }];
  }
  return [{ region: homeRegion, name, value: artifact.artifactId, dataType: 'text' }];
}
