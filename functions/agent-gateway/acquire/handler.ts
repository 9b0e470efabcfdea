/** POST /jobs/acquire: long poll for a job this agent matches (held up to ACQUIRE_MAX_WAIT_SECONDS). */
import { acquireRequestSchema } from '../../../aws/agent-gateway-contract.ts';
import { gatewayDepsFromEnv } from '../lib/deps.ts';
import { acquire } from '../lib/gateway.ts';
import { httpRoute } from '../lib/http.ts';

const deps = gatewayDepsFromEnv();
export const handler = httpRoute(acquireRequestSchema, ({ body, authorization }) => acquire(deps, authorization, body));
