/** POST /jobs/{jobId}/uploads: PUT URLs for the lease holder's artifact files (`kiln-agent --upload-artifacts`). */
import { uploadsRequestSchema } from '../../../aws/agent-gateway-contract.ts';
import { gatewayDepsFromEnv } from '../lib/deps.ts';
import { uploads } from '../lib/gateway.ts';
import { httpRoute, jobIdOf } from '../lib/http.ts';

const deps = gatewayDepsFromEnv();
export const handler = httpRoute(uploadsRequestSchema, (request) =>
  uploads(deps, request.authorization, jobIdOf(request), request.body),
);
