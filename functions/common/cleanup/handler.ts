import * as z from 'zod/mini';
import { ec2Client } from '../../../aws/clients/ec2.ts';
import { ssmClient } from '../../../aws/clients/ssm.ts';
import { gatewayDepsFromEnv } from '../../agent-gateway/lib/deps.ts';
import { buildStateSchema, stepErrorSchema } from '../../lib/build-state.ts';
import { s3Presigner } from '../../lib/commands/s3-presigner.ts';
import { baseDepsFromEnv } from '../../lib/handler-deps.ts';
import { lambdaHandler } from '../../lib/wiring.ts';
import { agentJobCanceller } from './agent-jobs.ts';
import { type CleanupDeps, cleanupBuild } from './cleanup.ts';

const base = baseDepsFromEnv((r) => ec2Client(r));
const deps: CleanupDeps = {
  ...base,
  ssmFor: (r) => ssmClient(r),
  presign: s3Presigner(base.s3),
  cancelAgentJobs: agentJobCanceller(gatewayDepsFromEnv().store),
};
const schema = z.object({ state: buildStateSchema, error: z.optional(stepErrorSchema) });

export const handler = lambdaHandler(schema, (input) => cleanupBuild(deps, input));
