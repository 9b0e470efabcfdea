/** POST /agents/register: a one-time registration token for an agent id and secret (returned once). */
import { registerRequestSchema } from '../../../aws/agent-gateway-contract.ts';
import { gatewayDepsFromEnv } from '../lib/deps.ts';
import { register } from '../lib/gateway.ts';
import { httpRoute } from '../lib/http.ts';

const deps = gatewayDepsFromEnv();
export const handler = httpRoute(registerRequestSchema, ({ body }) => register(deps, body));
