/** EnqueueAgentJob: the agent driver's `.waitForTaskToken` task; queues the build's job for an agent. */
import { s3Client } from '../../../aws/clients/s3.ts';
import { homeRegion } from '../../../aws/clients.ts';
import { requireKilnEnv } from '../../lib/env.ts';
import { loadStoredPlan, plannedBuild } from '../../lib/plan-store.ts';
import { lambdaHandler } from '../../lib/wiring.ts';
import { gatewayDepsFromEnv } from '../lib/deps.ts';
import { enqueue } from '../lib/gateway.ts';
import { enqueueTaskInputSchema, jobInputFor } from './job-input.ts';

const deps = gatewayDepsFromEnv();
const s3 = s3Client(homeRegion());
const artifactsBucket = requireKilnEnv('artifactsBucket');

export const handler = lambdaHandler(enqueueTaskInputSchema, async (input) => {
  const stored = await loadStoredPlan(s3, artifactsBucket, input.state.planKey);
  const job = jobInputFor(input, plannedBuild(stored, input.state.index), stored.plan.format);
  return enqueue(deps, job);
});
