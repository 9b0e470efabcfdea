/**
 * LaunchBuilder: launch the build's EC2 host idempotently and record it in the build state before anything waits
 * on it. ec2-ami: resolve the source AMI (kept, for lineage), pre-validate the AMI name, launch from the template's
 * options. ec2-docker: launch the docker builder host from the stack's host AMI parameter (the ECS-optimized
 * Amazon Linux 2023 AMI by default); its cursor walks prepare, the provisioners and finish.
 */
import { type EC2Client, RunInstancesCommand, type RunInstancesCommandInput } from '@aws-sdk/client-ec2';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { DockerHostSettings } from '../../../aws/docker-host.ts';
import { LaunchFailedError } from '../../../core/errors.ts';
import { amiBuild, dockerBuild } from '../../../core/plan/typed.ts';
import { awsCall } from '../../lib/aws-errors.ts';
import { loadBuildContext } from '../../lib/build-context.ts';
import { type Ec2HostState, type PayloadOf, record, requireEc2Host, type StagePayload } from '../../lib/build-state.ts';
import { resolveSourceImage } from '../../lib/ec2/source-image.ts';
import type { BaseDeps } from '../../lib/stage-deps.ts';
import { findFileRef, readStagedText, stagedKeyFor } from '../../lib/staged-files.ts';
import { clientToken } from '../../lib/tokens.ts';
import { preValidateAmiName } from './ami-name-check.ts';
import { buildDockerHostRequest, buildRunInstancesRequest, type LaunchSettings } from './run-request.ts';

export interface LaunchDeps extends BaseDeps {
  readonly launch: LaunchSettings;
  readonly dockerHost: DockerHostSettings;
  readonly ssmFor: (region: string) => SSMClient;
}

/** The host steps of a docker build: prepare, one per provisioner, finish. */
export function dockerHostSteps(provisioners: number): number {
  return provisioners + 2;
}

async function runInstance(ec2: EC2Client, request: RunInstancesCommandInput, what: string): Promise<string> {
  const out = await awsCall(
    `launching the ${what} (${request.InstanceType}, ${request.ImageId})`,
    (m, cause) => new LaunchFailedError(m, { cause }),
    () => ec2.send(new RunInstancesCommand(request)),
  );
  const instanceId = out.Instances?.[0]?.InstanceId;
  if (!instanceId) throw new LaunchFailedError('RunInstances returned no instance');
  return instanceId;
}

/** The docker host's AMI id from its SSM parameter (public `/aws/service/...` or the deployer's own). */
export async function dockerHostImage(ssm: SSMClient, parameter: string): Promise<string> {
  const out = await awsCall(
    `reading the docker host AMI from the SSM parameter ${parameter}`,
    (m, cause) => new LaunchFailedError(`${m} (set the stack's dockerHostAmiParameter to one that exists)`, { cause }),
    () => ssm.send(new GetParameterCommand({ Name: parameter })),
  );
  const value = out.Parameter?.Value?.trim() ?? '';
  if (!/^ami-[0-9a-f]{8,17}$/.test(value)) {
    throw new LaunchFailedError(`The SSM parameter ${parameter} holds "${value.slice(0, 64)}", not an AMI id`);
  }
  return value;
}

export async function launchBuilder(deps: LaunchDeps, payload: StagePayload): Promise<PayloadOf<Ec2HostState>> {
  const state = requireEc2Host(payload.state);
  const ctx = await loadBuildContext(deps, state);
  if (state.driver === 'ec2-docker') {
    const build = dockerBuild(ctx.build);
    const imageId = await dockerHostImage(deps.ssmFor(ctx.region), deps.dockerHost.amiParameter);
    const request = buildDockerHostRequest({
      imageId,
      host: deps.dockerHost,
      settings: deps.launch,
      tags: ctx.tagContext,
      clientToken: clientToken('launch', state.executionName, state.buildId, state.index),
    });
    const instanceId = await runInstance(deps.ec2For(ctx.region), request, 'docker builder host');
    const now = deps.now().toISOString();
    return {
      state: record(
        {
          ...state,
          region: ctx.region,
          instanceId,
          launchedAt: now,
          startedAt: state.startedAt ?? now,
          provision: { index: 0, count: dockerHostSteps(build.provisioners.length), attempt: 0 },
        },
        { kind: 'instance', region: ctx.region, id: instanceId },
      ),
      wait: { done: false, waitSeconds: deps.minPollSeconds },
    };
  }
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
  const instanceId = await runInstance(ec2, request, 'builder instance');
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
        // The AMI's lineage (the registry's source).
        ...(state.driver === 'ec2-ami' && source.ImageId ? { sourceImageId: source.ImageId } : {}),
        ...(notes.length > 0 ? { notes: [...(state.notes ?? []), ...notes] } : {}),
      },
      { kind: 'instance', region: ctx.region, id: instanceId },
    ),
    wait: { done: false, waitSeconds: deps.minPollSeconds },
  };
}
