import { dynamoClient } from '../../../aws/clients/dynamodb.ts';
import { requireKilnEnv } from '../../lib/env.ts';
import { baseDepsFromEnv, noEc2 } from '../../lib/handler-deps.ts';
import { lambdaHandler } from '../../lib/wiring.ts';
import { type FinalizeDeps, finalize, finalizeInputSchema } from './finalize.ts';

const base = baseDepsFromEnv(noEc2);
const deps: FinalizeDeps = {
  ...base,
  dynamo: dynamoClient(base.homeRegion),
  buildsTable: requireKilnEnv('buildsTable'),
};

export const handler = lambdaHandler(finalizeInputSchema, (input) => finalize(deps, input));
