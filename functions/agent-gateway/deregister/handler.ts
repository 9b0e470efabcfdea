/** POST /agents/deregister: the agent removes itself; its credential is refused from then on. */
import { deregisterRequestSchema } from '../../../aws/agent-gateway-contract.ts';
import { gatewayDepsFromEnv } from '../lib/deps.ts';
import { deregister } from '../lib/gateway.ts';
import { httpRoute } from '../lib/http.ts';

const deps = gatewayDepsFromEnv();
export const handler = httpRoute(deregisterRequestSchema, ({ authorization }) => deregister(deps, authorization));
