import { dynamoClient } from '../../../aws/clients/dynamodb.ts';
import { ssmClient } from '../../../aws/clients/ssm.ts';
import { requireKilnEnv } from '../../lib/env.ts';
import { baseDepsFromEnv, noEc2 } from '../../lib/handler-deps.ts';
import { lambdaHandler } from '../../lib/wiring.ts';
import { type FinalizeDeps, finalize, finalizeInputSchema } from './finalize.ts';

const base = baseDepsFromEnv(noEc2);
const dynamo = dynamoClient(base.homeRegion);
const deps: FinalizeDeps = {
  ...base,
  dynamo,
  buildsTable: requireKilnEnv('buildsTable'),
  registry: { dynamo, table: requireKilnEnv('registryTable'), ssm: ssmClient, homeRegion: base.homeRegion },
};

export const handler = lambdaHandler(finalizeInputSchema, (input) => finalize(deps, input));
