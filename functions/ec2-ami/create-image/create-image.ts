/**
 * CreateImage: stop the builder (unless disable_stop_instance) and, once it is stopped, create the AMI and
 * record it in the build state before anything waits on it. Called repeatedly by the ASL while the instance
 * stops: `wait.done` is true once CreateImage was called.
 */
import {
  CreateImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  ModifyImageAttributeCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { TAG_BUILD_ID, TAG_BUILD_INDEX } from '../../../aws/tags.ts';
import { ImageFailedError, TimeoutError } from '../../../core/errors.ts';
import { amiBuild } from '../../../core/plan/typed.ts';
import { known } from '../../../core/schema/decoded.ts';
import { awsCall } from '../../lib/aws-errors.ts';
import { loadBuildContext } from '../../lib/build-context.ts';
import {
  type Ec2AmiState,
  type PayloadOf,
  record,
  requireDriver,
  requireInstance,
  type StagePayload,
  sourceRegion,
} from '../../lib/build-state.ts';
import { pollingDeadline, waitOrTimeout } from '../../lib/polling.ts';
import type { BaseDeps } from '../../lib/stage-deps.ts';
import { buildCreateImageRequest } from './image-request.ts';

export const DEFAULT_STOP_DEADLINE_SECONDS = 600;
const imageFailed = (m: string, cause: unknown) => new ImageFailedError(m, { cause });

export async function createImage(deps: BaseDeps, payload: StagePayload): Promise<PayloadOf<Ec2AmiState>> {
  let state = requireDriver(payload.state, 'ec2-ami');
  const instanceId = requireInstance(state);
  const region = sourceRegion(state);
  const ctx = await loadBuildContext(deps, state);
  const build = amiBuild(ctx.build);
  const { config } = build;
  const ec2 = deps.ec2For(region);
  const existingSource = state.images.find((i) => !i.copy);
  if (existingSource) return { state, wait: { done: true, waitSeconds: deps.minPollSeconds } };
  if (known(config.skip_create_ami)) {
    // Packer's skip_create_ami: provision only (e.g. testing scripts); later stages see no image to wait for.
    return {
      state: { ...state, notes: [...(state.notes ?? []), 'skip_create_ami: no AMI was created'] },
      wait: { done: true, waitSeconds: 0 },
    };
  }

  if (!known(config.disable_stop_instance)) {
    const out = await awsCall(`describing builder ${instanceId}`, imageFailed, () =>
      ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })),
    );
    const current = out.Reservations?.[0]?.Instances?.[0]?.State?.Name;
    if (current !== 'stopped') {
      if (current === 'terminated' || current === 'shutting-down') {
        throw new ImageFailedError(`The builder ${instanceId} is ${current}; no image can be made from it`);
      }
      if (!state.stopRequestedAt) {
        await awsCall(`stopping builder ${instanceId}`, imageFailed, () =>
          ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] })),
        );
        state = { ...state, stopRequestedAt: deps.now().toISOString() };
      }
      const deadline = pollingDeadline(config, DEFAULT_STOP_DEADLINE_SECONDS);
      const wait = waitOrTimeout({
        since: state.stopRequestedAt,
        now: deps.now(),
        deadlineSeconds: deadline,
        minSeconds: deps.minPollSeconds,
        timeoutError: () =>
          new TimeoutError(`The builder ${instanceId} did not stop within ${Math.round(deadline / 60)} minutes`),
      });
      return { state, wait };
    }
  }

  const request = buildCreateImageRequest(build, instanceId, ctx.tagContext);
  // CreateImage has no client token: a retried invocation finds the image it created by its build tags.
  const found = await awsCall('looking for an image created by an earlier try', imageFailed, () =>
    ec2.send(
      new DescribeImagesCommand({
        Owners: ['self'],
        Filters: [
          { Name: 'name', Values: [request.Name as string] },
          { Name: `tag:${TAG_BUILD_ID}`, Values: [state.buildId] },
          { Name: `tag:${TAG_BUILD_INDEX}`, Values: [String(state.index)] },
        ],
      }),
    ),
  );
  let imageId = found.Images?.[0]?.ImageId;
  if (!imageId) {
    const out = await awsCall(`creating the AMI "${request.Name}"`, imageFailed, () =>
      ec2.send(new CreateImageCommand(request)),
    );
    imageId = out.ImageId;
  }
  if (!imageId) throw new ImageFailedError('CreateImage returned no image id');
  const now = deps.now().toISOString();
  state = record(
    {
      ...state,
      images: [...state.images, { region, imageId, snapshotIds: [], requestedAt: now, available: false, copy: false }],
    },
    { kind: 'image', region, id: imageId },
  );
  if (config.imds_support === 'v2.0') {
    const id = imageId;
    await awsCall('setting imds_support on the AMI', imageFailed, () =>
      ec2.send(new ModifyImageAttributeCommand({ ImageId: id, ImdsSupport: { Value: 'v2.0' } })),
    );
  }
  return { state, wait: { done: true, waitSeconds: deps.minPollSeconds } };
}
