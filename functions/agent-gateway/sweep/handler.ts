/** SweepAgentJobs: every minute (EventBridge schedule): lost leases, jobs no agent can take, task heartbeats. */
import * as z from 'zod/mini';
import { lambdaHandler } from '../../lib/wiring.ts';
import { gatewayDepsFromEnv } from '../lib/deps.ts';
import { sweep } from '../lib/gateway.ts';

const deps = gatewayDepsFromEnv();
// The rule's scheduled event carries nothing the sweep needs; anything else invoking it is a wiring mistake.
const scheduledEventSchema = z.object({ 'detail-type': z.literal('Scheduled Event'), source: z.literal('aws.events') });
export const handler = lambdaHandler(scheduledEventSchema, () => sweep(deps));
