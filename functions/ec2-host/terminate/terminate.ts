/**
 * Terminate: the builder is no longer needed once the source AMI is available. Idempotent: an instance that is
 * already gone counts as terminated.
 */
import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { LaunchFailedError } from '../../../core/errors.ts';
import { awsCall, isNotFoundAwsError } from '../../lib/aws-errors.ts';
import {
  type Ec2HostState,
  type PayloadOf,
  requireEc2Host,
  type StagePayload,
  sourceRegion,
} from '../../lib/build-state.ts';
import type { BaseDeps } from '../../lib/stage-deps.ts';

export async function terminateBuilder(
  deps: Pick<BaseDeps, 'ec2For'>,
  payload: StagePayload,
): Promise<PayloadOf<Ec2HostState>> {
  const state = requireEc2Host(payload.state);
  if (!state.instanceId) return { state, wait: { done: true, waitSeconds: 0 } };
  const instanceId = state.instanceId;
  const ec2 = deps.ec2For(sourceRegion(state));
  await awsCall(
    `terminating builder ${instanceId}`,
    (m, c) => new LaunchFailedError(m, { cause: c }),
    async () => {
      try {
        await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
      } catch (err) {
        if (!isNotFoundAwsError(err)) throw err;
      }
    },
  );
  return { state, wait: { done: true, waitSeconds: 0 } };
}
