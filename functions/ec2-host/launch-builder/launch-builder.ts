/**
 * LaunchBuilder (ec2-ami): resolve the source AMI, pre-validate the AMI name, launch the builder instance
 * idempotently and record it in the build state before anything waits on it (with the source AMI id, for lineage).
 */
import { RunInstancesCommand } from '@aws-sdk/client-ec2';
import { LaunchFailedError } from '../../../core/errors.ts';
import { amiBuild } from '../../../core/plan/typed.ts';
import { awsCall } from '../../lib/aws-errors.ts';
import { loadBuildContext } from '../../lib/build-context.ts';
import { type Ec2HostState, type PayloadOf, record, requireEc2Host, type StagePayload } from '../../lib/build-state.ts';
import { resolveSourceImage } from '../../lib/ec2/source-image.ts';
import type { BaseDeps } from '../../lib/stage-deps.ts';
import { findFileRef, readStagedText, stagedKeyFor } from '../../lib/staged-files.ts';
import { clientToken } from '../../lib/tokens.ts';
import { preValidateAmiName } from './ami-name-check.ts';
import { buildRunInstancesRequest, type LaunchSettings } from './run-request.ts';

export interface LaunchDeps extends BaseDeps {
  readonly launch: LaunchSettings;
}

export async function launchBuilder(deps: LaunchDeps, payload: StagePayload): Promise<PayloadOf<Ec2HostState>> {
  const state = requireEc2Host(payload.state);
  const ctx = await loadBuildContext(deps, state);
  const build = amiBuild(ctx.build);
  const { config } = build;
  const ec2 = deps.ec2For(ctx.region);
  const source = await resolveSourceImage(ec2, config);
  const { deregistered } = await preValidateAmiName(ec2, build);

  let userData = config.user_data || undefined;
  const userDataFile = config.user_data_file || undefined;
  if (userData === undefined && userDataFile) {
    const key = stagedKeyFor(state.buildId, findFileRef(ctx.stored.plan, userDataFile));
    userData = await readStagedText(deps.s3, deps.artifactsBucket, key);
  }

  const request = buildRunInstancesRequest({
    config,
    source,
    settings: deps.launch,
    tags: ctx.tagContext,
    // Same execution + build → same token: a retried LaunchBuilder gets the first instance back.
    clientToken: clientToken('launch', state.executionName, state.buildId, state.index),
    ...(userData !== undefined ? { userData } : {}),
  });
  const out = await awsCall(
    `launching the builder instance (${request.InstanceType}, ${source.ImageId})`,
    (m, cause) => new LaunchFailedError(m, { cause }),
    () => ec2.send(new RunInstancesCommand(request)),
  );
  const instanceId = out.Instances?.[0]?.InstanceId;
  if (!instanceId) throw new LaunchFailedError('RunInstances returned no instance');
  const now = deps.now().toISOString();
  const notes = deregistered.length > 0 ? [`force_deregister removed ${deregistered.join(', ')}`] : [];
  return {
    state: record(
      {
        ...state,
        region: ctx.region,
        instanceId,
        launchedAt: now,
        startedAt: state.startedAt ?? now,
        provision: { index: 0, count: ctx.build.provisioners.length, attempt: 0 },
        // The AMI's lineage (the registry's source); a docker build's host AMI is not its image's source.
        ...(state.driver === 'ec2-ami' && source.ImageId ? { sourceImageId: source.ImageId } : {}),
        ...(notes.length > 0 ? { notes: [...(state.notes ?? []), ...notes] } : {}),
      },
      { kind: 'instance', region: ctx.region, id: instanceId },
    ),
    wait: { done: false, waitSeconds: deps.minPollSeconds },
  };
}
