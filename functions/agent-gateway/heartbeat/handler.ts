/** POST /jobs/{jobId}/heartbeat: extends the lease, forwards log lines, answers whether to cancel. */
import { heartbeatRequestSchema } from '../../../aws/agent-gateway-contract.ts';
import { gatewayDepsFromEnv } from '../lib/deps.ts';
import { heartbeat } from '../lib/gateway.ts';
import { httpRoute, jobIdOf } from '../lib/http.ts';

const deps = gatewayDepsFromEnv();
export const handler = httpRoute(heartbeatRequestSchema, (request) =>
  heartbeat(deps, request.authorization, jobIdOf(request), request.body),
);
