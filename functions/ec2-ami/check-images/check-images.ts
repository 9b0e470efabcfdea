/**
 * CheckImages: one poll of every image of the build that is not available yet (the source AMI, then the
 * region copies). Newly available images get their snapshot ids recorded and their snapshots tagged
 * (`snapshot_tags` plus Kiln's tags); a failed image is Kiln.ImageFailed with EC2's StateReason.
 */
import { CreateTagsCommand, DescribeImagesCommand, type Image } from '@aws-sdk/client-ec2';
import { kilnTags, mergeTags, toTags } from '../../../aws/tags.ts';
import { ImageFailedError, TimeoutError } from '../../../core/errors.ts';
import { amiBuild } from '../../../core/plan/typed.ts';
import { awsCall } from '../../lib/aws-errors.ts';
import { loadBuildContext } from '../../lib/build-context.ts';
import {
  type Ec2AmiState,
  type ImageRecord,
  type PayloadOf,
  requireDriver,
  type StagePayload,
} from '../../lib/build-state.ts';
import { pollingDeadline, waitOrTimeout } from '../../lib/polling.ts';
import type { BaseDeps } from '../../lib/stage-deps.ts';

export const DEFAULT_IMAGE_DEADLINE_SECONDS = 3600;
const FAILED_STATES = new Set(['failed', 'error', 'invalid', 'deregistered']);
const imageFailed = (m: string, cause: unknown) => new ImageFailedError(m, { cause });

export function snapshotIdsOf(image: Image): string[] {
  return (image.BlockDeviceMappings ?? []).map((m) => m.Ebs?.SnapshotId).filter((s): s is string => !!s);
}

export async function checkImages(deps: BaseDeps, payload: StagePayload): Promise<PayloadOf<Ec2AmiState>> {
  const state = requireDriver(payload.state, 'ec2-ami');
  const ctx = await loadBuildContext(deps, state);
  const { config } = amiBuild(ctx.build);
  const images: ImageRecord[] = [];
  for (const record of state.images) {
    if (record.available) {
      images.push(record);
      continue;
    }
    const ec2 = deps.ec2For(record.region);
    const out = await awsCall(`checking ${record.imageId} in ${record.region}`, imageFailed, () =>
      ec2.send(new DescribeImagesCommand({ ImageIds: [record.imageId] })),
    );
    const image = out.Images?.[0];
    const imageState = image?.State ?? 'pending';
    if (FAILED_STATES.has(imageState)) {
      const reason = image?.StateReason?.Message ?? image?.StateReason?.Code ?? 'no reason given';
      throw new ImageFailedError(`The AMI ${record.imageId} in ${record.region} is ${imageState}: ${reason}`);
    }
    if (imageState !== 'available' || !image) {
      images.push(record);
      continue;
    }
    const snapshotIds = snapshotIdsOf(image);
    if (snapshotIds.length > 0) {
      const tags = mergeTags(toTags(config.snapshot_tags), kilnTags(ctx.tagContext));
      await awsCall(`tagging the snapshots of ${record.imageId}`, imageFailed, () =>
        ec2.send(new CreateTagsCommand({ Resources: snapshotIds, Tags: tags })),
      );
    }
    images.push({ ...record, snapshotIds, available: true });
  }
  const pending = images.filter((i) => !i.available);
  if (pending.length === 0) return { state: { ...state, images }, wait: { done: true, waitSeconds: 0 } };

  const oldest = pending.reduce((a, b) => (a.requestedAt < b.requestedAt ? a : b));
  const deadline = pollingDeadline(config, DEFAULT_IMAGE_DEADLINE_SECONDS);
  const wait = waitOrTimeout({
    since: oldest.requestedAt,
    now: deps.now(),
    deadlineSeconds: deadline,
    minSeconds: deps.minPollSeconds,
    timeoutError: () =>
      new TimeoutError(
        `The AMI ${pending.map((i) => `${i.imageId} (${i.region})`).join(', ')} did not become available within ` +
          `${Math.round(deadline / 60)} minutes; raise aws_polling { delay_seconds, max_attempts } for large volumes`,
      ),
  });
  return { state: { ...state, images }, wait };
}
