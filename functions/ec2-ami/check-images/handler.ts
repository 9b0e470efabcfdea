import { ec2Client } from '../../../aws/clients/ec2.ts';
import { stagePayloadSchema } from '../../lib/build-state.ts';
import { baseDepsFromEnv } from '../../lib/handler-deps.ts';
import { lambdaHandler } from '../../lib/wiring.ts';
import { checkImages } from './check-images.ts';

const deps = baseDepsFromEnv((r) => ec2Client(r));

export const handler = lambdaHandler(stagePayloadSchema, (payload) => checkImages(deps, payload));
