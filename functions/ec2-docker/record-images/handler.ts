import { ecrClient } from '../../../aws/clients/ecr.ts';
import { stagePayloadSchema } from '../../lib/build-state.ts';
import { requireKilnEnv } from '../../lib/env.ts';
import { baseDepsFromEnv, noEc2 } from '../../lib/handler-deps.ts';
import { lambdaHandler } from '../../lib/wiring.ts';
import { recordImages } from './record-images.ts';

const deps = { ...baseDepsFromEnv(noEc2), ecrFor: (r: string) => ecrClient(r), accountId: requireKilnEnv('accountId') };

export const handler = lambdaHandler(stagePayloadSchema, (payload) => recordImages(deps, payload));
