import { ec2Client } from '../../../aws/clients/ec2.ts';
import { stagePayloadSchema } from '../../lib/build-state.ts';
import { lambdaHandler } from '../../lib/wiring.ts';
import { terminateBuilder } from './terminate.ts';

const deps = { ec2For: (r: string) => ec2Client(r) };

export const handler = lambdaHandler(stagePayloadSchema, (payload) => terminateBuilder(deps, payload));
