/** EnqueueAgentJob: the ASL agent branch's `.waitForTaskToken` task; queues the build for an agent. */
import { enqueueJobInputSchema } from '../../../aws/agent-gateway-contract.ts';
import { lambdaHandler } from '../../lib/wiring.ts';
import { gatewayDepsFromEnv } from '../lib/deps.ts';
import { enqueue } from '../lib/gateway.ts';

const deps = gatewayDepsFromEnv();
export const handler = lambdaHandler(enqueueJobInputSchema, (input) => enqueue(deps, input));
