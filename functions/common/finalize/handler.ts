import { dynamoClient } from '../../../aws/clients/dynamodb.ts';
import { ssmClient } from '../../../aws/clients/ssm.ts';
import { optionalEnv } from '../../../aws/env.ts';
import { failureLimitFrom } from '../../../aws/schedules.ts';
import { requireKilnEnv } from '../../lib/env.ts';
import { baseDepsFromEnv, noEc2 } from '../../lib/handler-deps.ts';
import { lambdaHandler } from '../../lib/wiring.ts';
import { KILN_ENV } from '../../registry.ts';
import { type FinalizeDeps, finalize, finalizeInputSchema } from './finalize.ts';

const base = baseDepsFromEnv(noEc2);
const dynamo = dynamoClient(base.homeRegion);
// Without the stack's schedule group (an older stack, a test), scheduled builds are recorded but never disabled.
const scheduleGroup = optionalEnv(KILN_ENV.scheduleGroup);
const deps: FinalizeDeps = {
  ...base,
  dynamo,
  buildsTable: requireKilnEnv('buildsTable'),
  registry: { dynamo, table: requireKilnEnv('registryTable'), ssm: ssmClient, homeRegion: base.homeRegion },
  ...(scheduleGroup
    ? {
        schedules: {
          clients: async () => ({
            scheduler: (await import('../../../aws/clients/scheduler.ts')).schedulerClient(base.homeRegion),
            events: (await import('../../../aws/clients/eventbridge.ts')).eventBridgeClient(base.homeRegion),
          }),
          group: scheduleGroup,
          limit: failureLimitFrom(optionalEnv(KILN_ENV.scheduleFailureLimit)),
        },
      }
    : {}),
};

export const handler = lambdaHandler(finalizeInputSchema, (input) => finalize(deps, input));
