/** POST /jobs/{jobId}/complete: the outcome; sends the Step Functions task success or failure. */
import { completeRequestSchema } from '../../../aws/agent-gateway-contract.ts';
import { gatewayDepsFromEnv } from '../lib/deps.ts';
import { complete } from '../lib/gateway.ts';
import { httpRoute, jobIdOf } from '../lib/http.ts';

const deps = gatewayDepsFromEnv();
export const handler = httpRoute(completeRequestSchema, (request) =>
  complete(deps, request.authorization, jobIdOf(request), request.body),
);
