/**
 * Distribute: copy the source AMI to every other region of `ami_regions`. Each copy is tagged and recorded in
 * the build state as soon as CopyImage returns, before anything waits; a failure in one region is returned as
 * `error` WITH the state that lists the copies already made, so Cleanup can remove them.
 */
import { CopyImageCommand, CreateTagsCommand, DescribeImagesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { type KilnTagContext, kilnTags, TAG_BUILD_ID, TAG_BUILD_INDEX } from '../../../aws/tags.ts';
import { amiName } from '../../../core/builders/amazon-ebs.ts';
import { DistributeFailedError, KilnError } from '../../../core/errors.ts';
import { amiBuild } from '../../../core/plan/typed.ts';
import { known } from '../../../core/schema/decoded.ts';
import { awsCall } from '../../lib/aws-errors.ts';
import { loadBuildContext } from '../../lib/build-context.ts';
import {
  type Ec2AmiState,
  type PayloadOf,
  record,
  requireDriver,
  type StagePayload,
  sourceRegion,
} from '../../lib/build-state.ts';
import type { BaseDeps } from '../../lib/stage-deps.ts';
import { clientToken } from '../../lib/tokens.ts';
import { buildCopyImageRequest, targetRegions } from './copy-request.ts';

const distributeFailed = (m: string, cause: unknown) => new DistributeFailedError(m, { cause });

/** A copy made by an earlier, interrupted try carries our build tags; reuse it instead of copying twice. */
async function findEarlierCopy(ec2: EC2Client, state: Ec2AmiState, region: string): Promise<string | undefined> {
  const out = await awsCall(`looking for an earlier copy in ${region}`, distributeFailed, () =>
    ec2.send(
      new DescribeImagesCommand({
        Owners: ['self'],
        Filters: [
          { Name: `tag:${TAG_BUILD_ID}`, Values: [state.buildId] },
          { Name: `tag:${TAG_BUILD_INDEX}`, Values: [String(state.index)] },
        ],
      }),
    ),
  );
  return out.Images?.find((i) => i.ImageId && i.State !== 'deregistered')?.ImageId;
}

async function copyTo(
  ec2: EC2Client,
  state: Ec2AmiState,
  args: { request: ReturnType<typeof buildCopyImageRequest>; region: string; tags: KilnTagContext },
) {
  const earlier = await findEarlierCopy(ec2, state, args.region);
  if (earlier) return earlier;
  const out = await awsCall(`copying the AMI to ${args.region}`, distributeFailed, () =>
    ec2.send(new CopyImageCommand(args.request)),
  );
  const imageId = out.ImageId;
  if (!imageId) throw new DistributeFailedError(`CopyImage to ${args.region} returned no image id`);
  await awsCall(`tagging the copy ${imageId} in ${args.region}`, distributeFailed, () =>
    ec2.send(new CreateTagsCommand({ Resources: [imageId], Tags: kilnTags(args.tags) })),
  );
  return imageId;
}

export async function distribute(deps: BaseDeps, payload: StagePayload): Promise<PayloadOf<Ec2AmiState>> {
  let state = requireDriver(payload.state, 'ec2-ami');
  const region = sourceRegion(state);
  const ctx = await loadBuildContext(deps, state);
  const build = amiBuild(ctx.build);
  const source = state.images.find((i) => !i.copy);
  if (!source && known(build.config.skip_create_ami)) return { state, wait: { done: true, waitSeconds: 0 } };
  if (!source) throw new DistributeFailedError(`build ${state.name}: no source AMI to distribute`);
  const name = amiName(build.ami, state.buildId, state.index);
  for (const target of targetRegions(build.ami.copyRegions, region)) {
    if (state.images.some((i) => i.region === target)) continue;
    try {
      const request = buildCopyImageRequest(build.config, {
        sourceImageId: source.imageId,
        sourceRegion: region,
        targetRegion: target,
        name,
        clientToken: clientToken('copy', state.executionName, state.buildId, state.index, target),
      });
      const imageId = await copyTo(deps.ec2For(target), state, { request, region: target, tags: ctx.tagContext });
      state = record(
        {
          ...state,
          images: [
            ...state.images,
            {
              region: target,
              imageId,
              snapshotIds: [],
              requestedAt: deps.now().toISOString(),
              available: false,
              copy: true,
            },
          ],
        },
        { kind: 'image', region: target, id: imageId },
      );
    } catch (err) {
      const kiln = err instanceof KilnError ? err : new DistributeFailedError(`copying to ${target}: ${String(err)}`);
      // Throttling is retried by the ASL only when nothing was copied yet; otherwise hand back what exists.
      if (kiln.retryable && state.images.every((i) => !i.copy)) throw kiln;
      return { state, error: { Error: kiln.name, Cause: kiln.message } };
    }
  }
  const pending = state.images.some((i) => !i.available);
  return { state, wait: { done: !pending, waitSeconds: deps.minPollSeconds } };
}
