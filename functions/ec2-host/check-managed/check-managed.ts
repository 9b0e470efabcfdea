/**
 * CheckManaged: is the builder instance online in Systems Manager? One poll per invocation; the state machine
 * waits `waitSeconds` between polls (adaptive back-off) and this stage fails with Kiln.Timeout at the deadline.
 * After a short grace, a builder that is running but not Online has its network inspected (reachability.ts):
 * a subnet with no way to SSM fails at once with Kiln.BuilderUnreachable instead of at the deadline.
 */
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeInstanceInformationCommand, type SSMClient } from '@aws-sdk/client-ssm';
import {
  BuilderUnreachableError,
  InstanceNotManagedError,
  LaunchFailedError,
  TimeoutError,
} from '../../../core/errors.ts';
import { isAmiBuild } from '../../../core/plan/typed.ts';
import { awsCall } from '../../lib/aws-errors.ts';
import { loadBuildContext } from '../../lib/build-context.ts';
import {
  type Ec2HostState,
  type PayloadOf,
  requireEc2Host,
  requireInstance,
  type StagePayload,
  sourceRegion,
} from '../../lib/build-state.ts';
import { elapsedSince, pollingDeadline, waitOrTimeout } from '../../lib/polling.ts';
import type { BaseDeps } from '../../lib/stage-deps.ts';
import { diagnoseNetwork, gatherNetworkFacts } from './reachability.ts';

export const DEFAULT_MANAGED_DEADLINE_SECONDS = 600;
/**
 * Seconds after launch before the network is inspected: long enough for the instance to be running with its
 * interfaces attached, far shorter than the deadline. A network without a way out never recovers by waiting.
 */
export const NETWORK_CHECK_GRACE_SECONDS = 60;

export interface CheckManagedDeps extends BaseDeps {
  readonly ssmFor: (region: string) => SSMClient;
}

const notManaged = (m: string, cause: unknown) => new InstanceNotManagedError(m, { cause });

export async function checkManaged(deps: CheckManagedDeps, payload: StagePayload): Promise<PayloadOf<Ec2HostState>> {
  const state = requireEc2Host(payload.state);
  const instanceId = requireInstance(state);
  const region = sourceRegion(state);
  const ctx = await loadBuildContext(deps, state);

  const described = await awsCall(`describing builder ${instanceId}`, notManaged, () =>
    deps.ec2For(region).send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })),
  );
  const instance = described.Reservations?.[0]?.Instances?.[0];
  const instanceState = instance?.State?.Name;
  if (instanceState === 'terminated' || instanceState === 'shutting-down' || instanceState === 'stopped') {
    const reason = instance?.StateReason?.Message ?? instance?.StateTransitionReason ?? 'no reason given';
    throw new LaunchFailedError(
      `The builder instance ${instanceId} is ${instanceState} before provisioning: ${reason}`,
    );
  }

  const info = await awsCall(`asking Systems Manager about ${instanceId}`, notManaged, () =>
    deps
      .ssmFor(region)
      .send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] })),
  );
  const online = (info.InstanceInformationList ?? []).some(
    (i) => i.InstanceId === instanceId && i.PingStatus === 'Online',
  );
  if (online) return { state, wait: { done: true, waitSeconds: 0 } };

  const elapsed = elapsedSince(state.launchedAt ?? deps.now().toISOString(), deps.now());
  if (instance && instanceState === 'running' && elapsed >= NETWORK_CHECK_GRACE_SECONDS) {
    // Best effort: a describe call that fails (permissions, throttling) must not fail a build that may work.
    const facts = await gatherNetworkFacts(deps.ec2For(region), region, instance).catch(() => undefined);
    const problems = facts ? diagnoseNetwork(facts) : [];
    if (problems.length > 0) {
      throw new BuilderUnreachableError(
        `The builder instance ${instanceId} cannot reach Systems Manager, so no provisioner could run: ` +
          `${problems.join('; ')}.`,
      );
    }
  }
  // aws_polling is an amazon-ebs option; other drivers' builders wait the default.
  const deadline = isAmiBuild(ctx.build)
    ? pollingDeadline(ctx.build.config, DEFAULT_MANAGED_DEADLINE_SECONDS)
    : DEFAULT_MANAGED_DEADLINE_SECONDS;
  const wait = waitOrTimeout({
    since: state.launchedAt,
    now: deps.now(),
    deadlineSeconds: deadline,
    minSeconds: deps.minPollSeconds,
    timeoutError: () =>
      new TimeoutError(
        `The builder instance ${instanceId} did not come online in Systems Manager within ${Math.round(deadline / 60)} ` +
          'minutes. Usual causes: the subnet has no route to the SSM endpoints (add a NAT gateway or the ssm, ' +
          'ssmmessages and ec2messages VPC endpoints), the instance profile lacks AmazonSSMManagedInstanceCore, or ' +
          'the source AMI has no SSM agent (install it with user_data or pick an AMI that ships it).',
      ),
  });
  return { state, wait };
}
