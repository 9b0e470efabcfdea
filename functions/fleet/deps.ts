/** What AcquireSlot and ReleaseSlot share: the table, the validated policy, the execution status reader. */
import { DescribeExecutionCommand, ExecutionDoesNotExist } from '@aws-sdk/client-sfn';
import { dynamoClient } from '../../aws/clients/dynamodb.ts';
import { sfnClient } from '../../aws/clients/sfn.ts';
import { fleetPolicyFromEnv } from '../../aws/fleet-contract.ts';
import type { ExecutionStatusReader, FleetStore } from '../../aws/fleet-store.ts';
import { TransientError } from '../../core/errors.ts';
import { type FleetPolicy, fleetPolicyProblems } from '../../core/fleet/slots.ts';
import { isTransientAwsError } from '../lib/aws-errors.ts';
import { requireKilnEnv } from '../lib/env.ts';

export function fleetStoreFromEnv(env: NodeJS.ProcessEnv = process.env): FleetStore {
  return { dynamo: dynamoClient(), table: requireKilnEnv('fleetTable', env) };
}

/** The policy the stack set; a bad value is a deployment error, reported at cold start with the setting's name. */
export function fleetPolicyOrThrow(env: NodeJS.ProcessEnv = process.env): FleetPolicy {
  const policy = fleetPolicyFromEnv(env);
  const problems = fleetPolicyProblems(policy);
  if (problems.length > 0)
    throw new Error(`The fleet settings of this deployment are not valid: ${problems.join('; ')}`);
  return policy;
}

/** DescribeExecution's status; an execution that does not exist (any more) is undefined, which counts as ended. */
export const executionStatusReader =
  (describe: (arn: string) => Promise<{ status?: string }> = defaultDescribe): ExecutionStatusReader =>
  async (executionArn) => {
    try {
      return (await describe(executionArn)).status;
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return undefined;
      throw error;
    }
  };

const defaultDescribe = (executionArn: string) => sfnClient().send(new DescribeExecutionCommand({ executionArn }));

/**
 * Throttling, 5xx and network trouble (an aborted request included) become Kiln.Transient, which the ASL retries
 * with back-off: both operations are idempotent, so a retry after a lost answer is safe.
 */
export async function transientAware<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (
      error instanceof Error &&
      (error.name === 'AbortError' || isTransientAwsError(error)) &&
      !('retryable' in error)
    ) {
      throw new TransientError(`The fleet table or Step Functions did not answer: ${error.name}: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}
