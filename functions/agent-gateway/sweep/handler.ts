/** SweepAgentJobs: every minute (EventBridge schedule): lost leases, jobs no agent can take, task heartbeats. */
import * as z from 'zod/mini';
import { lambdaHandler } from '../../lib/wiring.ts';
import { gatewayDepsFromEnv } from '../lib/deps.ts';
import { sweep } from '../lib/gateway.ts';

const deps = gatewayDepsFromEnv();
// The scheduled event carries nothing the sweep needs.
export const handler = lambdaHandler(z.unknown(), () => sweep(deps));
