import { ssmClient } from '../../../aws/clients/ssm.ts';
import { stagePayloadSchema } from '../../lib/build-state.ts';
import { baseDepsFromEnv, noEc2 } from '../../lib/handler-deps.ts';
import { lambdaHandler } from '../../lib/wiring.ts';
import { type CheckCommandDeps, checkCommand } from './check-command.ts';

const deps: CheckCommandDeps = { ...baseDepsFromEnv(noEc2), ssmFor: (r) => ssmClient(r) };

export const handler = lambdaHandler(stagePayloadSchema, (payload) => checkCommand(deps, payload));
