import { stagePayloadSchema } from '../lib/build-state.ts';
import { ssmClient } from '../lib/clients.ts';
import { baseDepsFromEnv } from '../lib/handler-deps.ts';
import { lambdaHandler } from '../lib/wiring.ts';
import { type CheckManagedDeps, checkManaged } from './check-managed.ts';

const deps: CheckManagedDeps = { ...baseDepsFromEnv(), ssmFor: (r) => ssmClient(r) };

export const handler = lambdaHandler(stagePayloadSchema, (payload) => checkManaged(deps, payload));
