import { ec2Client } from '../../../aws/clients/ec2.ts';
import { ssmClient } from '../../../aws/clients/ssm.ts';
import { stagePayloadSchema } from '../../lib/build-state.ts';
import { baseDepsFromEnv } from '../../lib/handler-deps.ts';
import { lambdaHandler } from '../../lib/wiring.ts';
import { type CheckManagedDeps, checkManaged } from './check-managed.ts';

const deps: CheckManagedDeps = { ...baseDepsFromEnv((r) => ec2Client(r)), ssmFor: (r) => ssmClient(r) };

export const handler = lambdaHandler(stagePayloadSchema, (payload) => checkManaged(deps, payload));
